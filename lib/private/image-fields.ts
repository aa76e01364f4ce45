/** One image field of one resource. */
export interface ImageField {
  /** Override path, such as `spec.template.spec.container.0.image`. */
  readonly path: string;
  /** The reference, possibly holding Terraform references. */
  readonly value: string;
  /** False for names an image is built or pushed under: those are checked, never rewritten. */
  readonly rewrite: boolean;
}

/** Every image field of a resource's config, with its override path. */
export function imageFields(type: string, config: unknown): ImageField[] {
  const out: ImageField[] = [];
  if (config === null || typeof config !== 'object') return out;
  const c = config as Record<string, unknown>;
  if (type === 'docker_image') {
    // With a build block, `name` is what gets built; without one it is pulled.
    if (typeof c.name === 'string') out.push({ path: 'name', value: c.name, rewrite: c.build === undefined });
    return out;
  }
  if (type === 'docker_registry_image') {
    if (typeof c.name === 'string') out.push({ path: 'name', value: c.name, rewrite: false });
    return out;
  }
  const walk = (value: unknown, path: string): void => {
    if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, `${path}.${i}`));
    } else if (value !== null && typeof value === 'object') {
      for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
        if (key === '//') continue;
        const p = path ? `${path}.${key}` : key;
        if (key === 'image' && typeof v === 'string') out.push({ path: p, value: v, rewrite: true });
        else walk(v, p);
      }
    }
  };
  walk(c, '');
  return out;
}

