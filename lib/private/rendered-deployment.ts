import { DeploymentV1, DeploymentV1Config, DeploymentV1Spec } from '@cdktf/provider-kubernetes/lib/deployment-v1';
import { Construct } from 'constructs';

/**
 * A DeploymentV1 whose spec is rendered from a pod model each time it is
 * synthesized (JSON or HCL, and when an aspect reads it), so containers and
 * volumes added after the Deployment was created are included.
 */
export class RenderedDeployment extends DeploymentV1 {
  constructor(
    scope: Construct,
    id: string,
    config: Omit<DeploymentV1Config, 'spec'>,
    private readonly renderSpec: () => DeploymentV1Spec,
  ) {
    super(scope, id, { ...config, spec: renderSpec() });
  }

  protected override synthesizeAttributes(): { [name: string]: unknown } {
    this.putSpec(this.renderSpec());
    return super.synthesizeAttributes();
  }

  protected override synthesizeHclAttributes(): { [name: string]: unknown } {
    this.putSpec(this.renderSpec());
    return super.synthesizeHclAttributes();
  }
}
