// The public API, named export by export: anything not listed here is internal.

// Core values: errors, time, sizes, image references, registry mirrors.
export { AirgapError, PropProblem } from './core/errors';
export { Duration } from './core/duration';
export { Cpu, Size } from './core/size';
export { ImageReference, ImageReferenceParts } from './core/image-reference';
export { MirrorRule, RegistryMirror } from './core/registry-mirror';

// Kubernetes: the pod model, GoService, PreviewEnvironment and its namespace policies.
export { WellKnownLabels } from './kubernetes/labels';
export { PodSecurityOptOut, RestrictedControl } from './kubernetes/pod-security';
export { ContainerResources, CpuRange, MemoryRange, StorageRange } from './kubernetes/resources';
export { HttpProbeOptions, Probe, ProbeOptions } from './kubernetes/probe';
export {
  Container,
  ContainerPort,
  ContainerProps,
  ContainerSecurityContext,
  ContainerSecurityContextProps,
  EmptyDirOptions,
  EnvKeyOptions,
  EnvSource,
  EnvSourceOptions,
  EnvValue,
  IPodExtension,
  MountOptions,
  ObjectVolumeOptions,
  Pod,
  PodProps,
  Volume,
} from './kubernetes/pod';
export {
  NodeLabelRequirement,
  NodeSelectorOperator,
  PreferredNodeLabels,
  ReplicaSpread,
  SchedulingOptions,
  TaintEffect,
  Toleration,
  TolerationOperator,
  TopologySpreadOptions,
} from './kubernetes/scheduling';
export { RegistryCredentials, RegistryCredentialsProps } from './kubernetes/registry-credentials';
export { GoService, GoServiceOptions, GoServiceProps, MetricsOptions } from './kubernetes/go-service';
export {
  AllowDnsOptions,
  AllowIngressControllerOptions,
  AllowMonitoringOptions,
  AllowPodsOptions,
  AllowSameNamespaceOptions,
  ClusterDnsPeer,
  ContainerBounds,
  ContainerDefaults,
  ContainerDefaultsProps,
  IngressControllerPeer,
  MonitoringPeer,
  NamespacedOptions,
  NamespaceNetworkPolicy,
  NamespaceQuota,
  NamespaceQuotaLimits,
  NamespaceQuotaProps,
  ResolvedBounds,
} from './kubernetes/namespace-policies';
export { DnsLabelOptions, PreviewName } from './kubernetes/preview-name';
export { AddServiceOptions, EnvironmentRegistryCredentialsProps, PreviewEnvironment, PreviewEnvironmentProps, PreviewIngressOptions } from './kubernetes/preview-environment';

// Images: GoImage and what it is built from, and the bundle data image.
export { BaseImage, StockImageOptions } from './image/base-image';
export { GoModule } from './image/go-module';
export { ModuleSource, ModuleSourceKind, ProxyModuleSourceOptions } from './image/module-source';
export { GoImage, GoImageProps } from './image/go-image';
export { BuildEngine, DockerfileBuildOptions, GoImageBuild, GoImageBuildKind, HostGoBuildOptions, KitCommandOptions } from './image/go-image-build';
export { OfflineBundleImage, OfflineBundleImageProps } from './image/offline-bundle-image';

// The offline Go module mirror: bundle, sidecar, namespace service.
export { ChecksumDatabase, OfflineBundle, OfflineBundleOptions } from './offline/offline-bundle';
export { OfflineMirror, OfflineMirrorProps, OfflineMirrorServerImageProps } from './offline/offline-mirror';
export { OfflineMirrorService, OfflineMirrorServiceProps } from './offline/offline-mirror-service';

// Air-gap policy: the aspect and its rules.
export { AirgapRules, IAirgapRule, ImageUse, RuleOutcome, RuleResult } from './airgap/airgap-rules';
export { AirgapPolicy, AirgapPolicyProps } from './airgap/airgap-policy';
export { PolicyCheckOptions, PolicyFinding, PolicyLevel, PolicyPack, PolicyRuleInfo } from './policy/rules';
export { PolicyChecks, PolicySuppression, StackPolicy } from './policy/policy-checks';

// Stacks: the portable stack and what its offline kit records.
export { AirgapStack, AirgapStackProps, IStackArtifact } from './stack/airgap-stack';
export { ImageLine, KitContents, KitImage, KitImageUse, RequiredProvider } from './stack/kit-contents';
export { DataTerraformRemoteStateKubernetes, DataTerraformRemoteStateKubernetesConfig, KubernetesStateBackend, KubernetesStateBackendProps, STATE_STACK_LABEL } from './stack/kubernetes-state-backend';
export { STATE_VERBS, StateBackendAccess, StateBackendAccessProps, StateServiceAccount } from './stack/state-backend-access';
export { ApiResource, PREVIEW_RESOURCES, PreviewReaperAccess, PreviewReaperAccessProps, REAPER_VERBS } from './stack/preview-reaper-access';
