import { SecretV1 } from '@cdktf/provider-kubernetes/lib/secret-v1';
import { Fn, TerraformVariable, Token } from 'cdktf';
import { Construct } from 'constructs';
import { PropChecker } from '../private/prop-checker';
import { checkDns1123Subdomain, labelMapProblems } from '../private/validation';

/** Props for {@link RegistryCredentials}. */
export interface RegistryCredentialsProps {
  /** Namespace of the Secret; pass the Namespace resource's `metadata.name`. */
  readonly namespace: string;
  /** Registry host the credentials are for, with port: `registry.internal:5000`. */
  readonly registry: string;
  /** User name; literal text or a Terraform reference. */
  readonly username: string;
  /**
   * The password or token, as a Terraform variable declared `sensitive: true`,
   * so it is given at apply time (`TF_VAR_…`) and never written into cdk.tf.json.
   */
  readonly password: TerraformVariable;
  /**
   * Name of the Secret.
   * @default 'registry-credentials'
   */
  readonly name?: string;
  /**
   * Labels of the Secret.
   * @default - none
   */
  readonly labels?: { [key: string]: string };
}

/**
 * A `kubernetes.io/dockerconfigjson` Secret for pulling from an internal
 * registry, built at apply time from a sensitive Terraform variable: the
 * configuration holds only a reference, never the credential. Pass its
 * `secretName` to `imagePullSecrets`, or create it with
 * `PreviewEnvironment.addRegistryCredentials`, which does.
 */
export class RegistryCredentials extends Construct {
  /** Name of the Secret. */
  public readonly secretName: string;
  /** The Secret (escape hatch). */
  public readonly secret: SecretV1;

  constructor(scope: Construct, id: string, props: RegistryCredentialsProps) {
    super(scope, id);
    const name = props.name ?? 'registry-credentials';
    const c = new PropChecker(this, 'RegistryCredentials');
    c.check('name', name, checkDns1123Subdomain(name), 'Use a Secret name such as "registry-credentials".');
    if (typeof props.registry !== 'string' || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]{1,5})?$/.test(props.registry)) {
      c.fail('registry', props.registry, 'is not a registry host[:port]', 'Give the host images are pulled from, such as "registry.internal:5000".');
    }
    if (typeof props.username !== 'string' || props.username.length === 0) {
      c.fail('username', props.username, 'is empty', 'Give the registry user, or a TerraformVariable\'s stringValue.');
    }
    if (!(props.password instanceof TerraformVariable)) {
      const shown = typeof props.password === 'string' && !Token.isUnresolved(props.password) ? '<a literal string, not shown>' : props.password;
      c.fail('password', shown, 'is not a TerraformVariable', 'Declare new TerraformVariable(stack, "registry_password", { type: "string", sensitive: true }) and pass it; set TF_VAR_registry_password at apply time. A literal would be written into cdk.tf.json.');
    } else if (props.password.sensitive !== true) {
      c.fail('password', `variable "${props.password.node.id}"`, 'is not declared sensitive: true', 'Declare it with sensitive: true, so Terraform never prints it in plans or output.');
    }
    for (const p of labelMapProblems('labels', props.labels ?? {})) c.fail(p.prop, p.value, p.problem, 'Use Kubernetes label syntax: "example.com/team": "payments".');
    c.throwIfAny({ discard: true });

    const password = props.password.stringValue;
    const config = Fn.jsonencode({
      auths: { [props.registry]: { username: props.username, password, auth: Fn.base64encode(Fn.join(':', [props.username, password])) } },
    });
    this.secret = new SecretV1(this, 'Secret', {
      metadata: { name, namespace: props.namespace, labels: props.labels },
      type: 'kubernetes.io/dockerconfigjson',
      data: { '.dockerconfigjson': config },
    });
    this.secretName = name;
  }
}
