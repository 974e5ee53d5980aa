import type { Command } from 'commander';
import type { Deps } from '../deps.js';
import type { Deployment, PodTemplateSpec } from '../kube/types.js';
import { addMutationOptions, addOutputOption, connectFrom, dryRunOf, printerOf } from './common.js';
import { dryRunSuffix, withKind } from '../output/printer.js';
import { withProgress } from '../output/progress.js';
import { parseDuration } from '../util/duration.js';
import { R, pathOf } from '../kube/resources.js';
import { UsageError } from '../errors.js';
import { CHANGE_CAUSE, diffTemplates, isValidImage, renderDiff, waitForRollout, type DiffLine } from '../workloads/rollout.js';
import { deploymentName } from './history.js';

/** Parses `CONTAINER=IMAGE` arguments, rejecting bad image references before anything is sent. */
export function parseImages(args: string[]): Map<string, string> {
  if (args.length === 0) throw new UsageError('at least one CONTAINER=IMAGE is required');
  const m = new Map<string, string>();
  for (const a of args) {
    const eq = a.indexOf('=');
    if (eq <= 0 || eq === a.length - 1) throw new UsageError(`invalid argument "${a}": want CONTAINER=IMAGE`);
    const [c, img] = [a.slice(0, eq), a.slice(eq + 1)];
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
  const t = structuredClone(template ?? {}) as PodTemplateSpec;
  for (const c of [...(t.spec?.containers ?? []), ...(t.spec?.initContainers ?? [])]) if (images.has(c.name)) c.image = images.get(c.name);
  return t;
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

export function register(program: Command, deps: Deps): void {
  const cmd = program
    .command('ship')
    .description('set container images of a Deployment and record the change-cause in one step, then wait for the rollout')
    .argument('<deployment>', 'NAME or deploy/NAME')
    .argument('<container=image...>', 'new images by container name')
    .option('--cause <text>', 'change-cause to record (default: a description of the image change)')
    .option('--timeout <duration>', 'how long to wait for the rollout', '5m')
    .option('--no-wait', 'do not wait for the rollout');
  addOutputOption(cmd, ['table', 'json', 'yaml', 'name']);
  addMutationOptions(cmd);
  cmd.action(async (target: string, assignments: string[]) => {
    const o = cmd.opts() as { cause?: string; timeout: string; wait: boolean };
    const printer = printerOf(cmd);
    const format = printer.format;
    const dryRun = dryRunOf(cmd);
    const timeoutMs = parseDuration(o.timeout, '--timeout');
    const name = deploymentName(target);
    const images = parseImages(assignments);
    const { kube, namespace } = await connectFrom(cmd, deps);
    const path = pathOf(R.deployments, { namespace, name });
    const cause = o.cause ?? `image ${[...images].map(([c, i]) => `${c}=${i}`).join(', ')}`;

    let diff: DiffLine[] = [];
    const r = await kube.patchGuarded<Deployment>(
      path,
      'strategic',
      (d) => {
        checkContainers(images, d.spec?.template, `deployment/${name}`);
        diff = diffTemplates(d.spec?.template, withImages(d.spec?.template, images));
        return diff.length ? { metadata: { annotations: { [CHANGE_CAUSE]: cause } }, spec: imagePatch(d.spec?.template, images) } : undefined;
      },
      { dryRun },
    );
    if (!r.changed) {
      deps.err.write(`deployment.apps/${name} already runs ${[...images.values()].join(', ')}; nothing changed\n`);
      if (format === 'name') deps.out.write(`deployment.apps/${name}\n`);
      else if (printer.structured) await printer.print(deps, { items: [withKind(r.object, 'Deployment', 'apps/v1')] });
      return;
    }
    if (format === 'table') deps.out.write(`deployment.apps/${name}: ship (change-cause "${cause}")${dryRunSuffix(dryRun)}\n${renderDiff(diff)}`);
    if (dryRun === 'client') return;
    const result = r.object;
    if (dryRun === 'server') {
      if (printer.structured) await printer.print(deps, { items: [withKind(result, 'Deployment', 'apps/v1')] });
      return;
    }
    if (o.wait) {
      await withProgress(`waiting for deployment/${name} to roll out`, { stream: deps.err, enabled: format === 'table' || format === 'name' }, (update) =>
        waitForRollout(kube, namespace, name, { timeoutMs, progress: update, signal: deps.signal }),
      );
    }
    if (printer.structured) {
      await printer.print(deps, { items: [withKind(await kube.get<Deployment>(path), 'Deployment', 'apps/v1')] });
    } else if (format === 'name') deps.out.write(`deployment.apps/${name}\n`);
    else deps.out.write(`deployment.apps/${name} ${o.wait ? 'rolled out' : 'updated'}\n`);
  });
}
