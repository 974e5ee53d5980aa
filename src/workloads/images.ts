// Image assignments (`CONTAINER=IMAGE`) for ship and the ReplicaSet rollback: parsed and
// checked before anything is sent, and turned into a patch keyed by container name.
import type { PodTemplateSpec } from '../kube/types.js';
import { UsageError } from '../errors.js';
import { isValidImage } from './rollout.js';

/** Parses `CONTAINER=IMAGE` arguments, rejecting bad image references before anything is sent. */
export function parseImages(args: string[]): Map<string, string> {
  if (args.length === 0) throw new UsageError('at least one CONTAINER=IMAGE is required');
  const m = new Map<string, string>();
  for (const a of args) {
    const eq = a.indexOf('=');
    if (eq <= 0 || eq === a.length - 1) throw new UsageError(`invalid argument "${a}": want CONTAINER=IMAGE`);
    const [c, img] = [a.slice(0, eq), a.slice(eq + 1)];
    // Container names are DNS-1123 labels; anything else cannot match a container.
    if (c.length > 63 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(c))
      throw new UsageError(`invalid container name "${c.length > 80 ? c.slice(0, 80) + '…' : c}" in "${a.length > 80 ? a.slice(0, 80) + '…' : a}"`);
    if (!isValidImage(img)) throw new UsageError(`invalid image reference "${img}" for container ${c}`);
    if (m.has(c)) throw new UsageError(`container ${c} is given twice`);
    m.set(c, img);
  }
  return m;
}

/** Unknown container names are refused with the list of containers the template has. */
export function checkContainers(images: Map<string, string>, template: PodTemplateSpec | undefined, what: string): void {
  const names = [...(template?.spec?.containers ?? []), ...(template?.spec?.initContainers ?? [])].map((c) => c.name);
  for (const c of images.keys()) {
    if (!names.includes(c)) throw new UsageError(`container "${c}" not found in ${what}; containers: ${names.join(', ')}`);
  }
}

export function withImages(template: PodTemplateSpec | undefined, images: Map<string, string>): PodTemplateSpec {
  const t = structuredClone<PodTemplateSpec>(template ?? {});
  for (const c of [...(t.spec?.containers ?? []), ...(t.spec?.initContainers ?? [])]) if (images.has(c.name)) c.image = images.get(c.name);
  return t;
}

/** True when every named container of the template runs the given image. */
export function hasImages(template: PodTemplateSpec | undefined, images: Map<string, string>): boolean {
  const all = [...(template?.spec?.containers ?? []), ...(template?.spec?.initContainers ?? [])];
  return [...images].every(([c, img]) => all.some((x) => x.name === c && x.image === img));
}

/** `app=x:1, side=y:2`, the images of a template (or of an assignment), for messages. */
export function describeImages(images: Map<string, string> | PodTemplateSpec | undefined): string {
  if (images instanceof Map) return [...images].map(([c, i]) => `${c}=${i}`).join(', ');
  return [...(images?.spec?.containers ?? [])].map((c) => `${c.name}=${c.image}`).join(', ');
}

/** A strategic merge patch that sets images by container name. */
export function imagePatch(template: PodTemplateSpec | undefined, images: Map<string, string>): object {
  const spec: Record<string, unknown> = {};
  const containers = (template?.spec?.containers ?? []).filter((c) => images.has(c.name)).map((c) => ({ name: c.name, image: images.get(c.name) }));
  const init = (template?.spec?.initContainers ?? []).filter((c) => images.has(c.name)).map((c) => ({ name: c.name, image: images.get(c.name) }));
  if (containers.length) spec.containers = containers;
  if (init.length) spec.initContainers = init;
  return { template: { spec } };
}
