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
export { ContainerResources, CpuRange, MemoryRange } from './kubernetes/resources';
export { HttpProbeOptions, Probe, ProbeOptions } from './kubernetes/probe';
export {
  Container,
  ContainerPort,
  ContainerProps,
  ContainerSecurityContext,
  ContainerSecurityContextProps,
  EmptyDirOptions,
  IPodExtension,
  MountOptions,
  Pod,
  PodProps,
  Volume,
} from './kubernetes/pod';
export { GoService, GoServiceOptions, GoServiceProps } from './kubernetes/go-service';
export {
  AllowDnsOptions,
  AllowIngressControllerOptions,
  AllowSameNamespaceOptions,
  ClusterDnsPeer,
  ContainerDefaults,
  ContainerDefaultsProps,
  IngressControllerPeer,
  NamespacedOptions,
  NamespaceNetworkPolicy,
  NamespaceQuota,
  NamespaceQuotaLimits,
  NamespaceQuotaProps,
} from './kubernetes/namespace-policies';
export { DnsLabelOptions, PreviewName } from './kubernetes/preview-name';
export { AddServiceOptions, PreviewEnvironment, PreviewEnvironmentProps, PreviewIngressOptions } from './kubernetes/preview-environment';

// Images: GoImage and what it is built from, and the bundle data image.
export { BaseImage, StockImageOptions } from './image/base-image';
export { GoModule } from './image/go-module';
export { ModuleSource, ModuleSourceKind, ProxyModuleSourceOptions } from './image/module-source';
export { GoImage, GoImageProps } from './image/go-image';
export { OfflineBundleImage, OfflineBundleImageProps } from './image/offline-bundle-image';

// The offline Go module mirror: bundle, sidecar, namespace service.
export { ChecksumDatabase, OfflineBundle, OfflineBundleOptions } from './offline/offline-bundle';
export { OfflineMirror, OfflineMirrorProps, OfflineMirrorServerImageProps } from './offline/offline-mirror';
export { OfflineMirrorService, OfflineMirrorServiceProps } from './offline/offline-mirror-service';

// Air-gap policy: the aspect and its rules.
export { AirgapRules, IAirgapRule, ImageUse, RuleOutcome, RuleResult } from './airgap/airgap-rules';
export { AirgapPolicy, AirgapPolicyProps } from './airgap/airgap-policy';

// Stacks: the portable stack and what its offline kit records.
export { AirgapStack, AirgapStackProps, IStackArtifact } from './stack/airgap-stack';
export { ImageLine, KitContents, KitImage, KitImageUse, RequiredProvider } from './stack/kit-contents';
