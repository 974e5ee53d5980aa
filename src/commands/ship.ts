import type { Command } from 'commander';
import type { Deps } from '../deps.js';
import type { Deployment } from '../kube/types.js';
import { addDryRunOption, addOutputOption, connectFrom, dryRunOf, printerOf } from './common.js';
import { preflight, parseTimeout } from './flow.js';
import { dryRunSuffix, withKind } from '../output/printer.js';
import { withProgress } from '../output/progress.js';
import { R, pathOf } from '../kube/resources.js';
import { CliError } from '../errors.js';
import {
  CHANGE_CAUSE,
  REVISION,
  ROLLBACK_ORIGIN,
  answerLost,
  diffTemplates,
  renderDiff,
  revisionOfTemplate,
  revisionsOf,
  templatesEqual,
  waitForRollout,
  type DiffLine,
} from '../workloads/rollout.js';
import { checkContainers, describeImages, hasImages, imagePatch, parseImages, withImages } from '../workloads/images.js';
import { deploymentName } from '../workloads/targets.js';

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
  addDryRunOption(cmd);
  cmd.action(async (target: string, assignments: string[]) => {
    // 1. Options, no I/O.
    const o = cmd.opts<{ cause?: string; timeout: string; wait: boolean }>();
    const printer = printerOf(cmd);
    const format = printer.format;
    const dryRun = dryRunOf(cmd);
    const timeoutMs = parseTimeout(o.timeout);
    const name = deploymentName(target);
    const images = parseImages(assignments);
    const cause = o.cause ?? `image ${describeImages(images)}`;
    const waits = o.wait && dryRun === 'none';

    const { kube, namespace } = await connectFrom(cmd, deps);
    const path = pathOf(R.deployments, { namespace, name });
    const nsFlag = ` -n ${namespace}`;
    const paused = () =>
      new CliError(`deployment/${name} is paused, and a paused Deployment does not roll out; resume it first: kubectl rollout resume deployment/${name} -n ${namespace}`);

    // 2. Access pre-flight, before the plan's reads too, so a denied verb reads the same whichever it is.
    if (dryRun !== 'client') await preflight(kube, 'ship', namespace, (when) => when === 'wait' && waits);

    // 3. Plan (reads only): refuse what cannot roll out before anything is written.
    const d = await kube.get<Deployment>(path);
    checkContainers(images, d.spec?.template, `deployment/${name}`);
    if (d.spec?.paused) throw paused();
    const revisions = await revisionsOf(kube, d);
    const currentRev = Number(d.metadata?.annotations?.[REVISION] ?? revisions.at(-1)?.revision ?? 0);

    // 4. Apply, guarded by the resourceVersion the plan was made on.
    let diff: DiffLine[] = [];
    const again = `kubectl mlops ship ${name} ${assignments.join(' ')}${nsFlag}${o.cause !== undefined ? ` --cause ${JSON.stringify(o.cause)}` : ''}`;
    const r = await kube
      .patchGuarded<Deployment>(
        path,
        'strategic',
        (cur) => {
          if (cur.spec?.paused) throw paused();
          checkContainers(images, cur.spec?.template, `deployment/${name}`);
          diff = diffTemplates(cur.spec?.template, withImages(cur.spec?.template, images));
          // A ship is not a rollback: the origin of an earlier rollback's cause no longer applies.
          return diff.length ? { metadata: { annotations: { [CHANGE_CAUSE]: cause, [ROLLBACK_ORIGIN]: null } }, spec: imagePatch(cur.spec?.template, images) } : undefined;
        },
        { dryRun, known: d },
      )
      .catch((e: unknown) => {
        if (dryRun === 'none' && diff.length && answerLost(e)) {
          deps.journal.wrote(
            `deployment.apps/${name} images set to ${describeImages(images)} (change-cause "${cause}")? sent, but the answer was lost: it may or may not be applied`,
          );
          deps.journal.resume(again);
        }
        throw e;
      });
    if (r.changed && dryRun === 'none') {
      deps.journal.wrote(`deployment.apps/${name} images set to ${describeImages(images)} (change-cause "${cause}")`);
      deps.journal.resume(again);
      if (currentRev > 0) deps.journal.undo(`kubectl mlops rollback ${name} --to-revision ${currentRev}${nsFlag}`);
    }
    if (!r.changed) {
      // Re-running converges: the same images are verified again, never just "nothing changed".
      const running = revisionOfTemplate(revisions, r.object.spec?.template);
      deps.err.write(
        `deployment.apps/${name} already runs ${[...images.values()].join(', ')}${running ? ` (revision ${running.revision})` : ''}; nothing to change${waits ? ', verifying its rollout' : ''}\n`,
      );
    }
    if (r.changed && format === 'table') deps.out.write(`deployment.apps/${name}: ship (change-cause "${cause}")${dryRunSuffix(dryRun)}\n${renderDiff(diff)}`);
    if (dryRun === 'client') return;
    const result = r.object;
    if (dryRun === 'server') {
      if (printer.structured) await printer.print(deps, { items: [withKind(result, 'Deployment', 'apps/v1')] });
      return;
    }

    // 5. Verify, also when nothing changed: the rollout completes on the images this command set.
    let final = result;
    if (waits) {
      const key = 'rollout';
      deps.journal.expect(key, `rollout of deployment.apps/${name} on ${describeImages(images)}`);
      const done = await withProgress(`waiting for deployment/${name} to roll out`, { stream: deps.err, enabled: format === 'table' || format === 'name' }, (update) =>
        waitForRollout(kube, namespace, name, {
          timeoutMs,
          progress: update,
          signal: deps.signal,
          uid: d.metadata?.uid,
          verify: (now) => {
            const sameImages = hasImages(now.spec?.template, images);
            if (sameImages && templatesEqual(now.spec?.template, result.spec?.template)) return undefined;
            if (sameImages) {
              // Another change to the template (env, resources, ...): undoing ours would drop it too.
              deps.journal.superseded(`deployment.apps/${name}'s pod template was changed since by someone else`);
              return `deployment/${name} was changed by someone else during the rollout: its pod template is no longer the one this command wrote (the images are still ${describeImages(images)}); see \`kubectl mlops history ${name}${nsFlag}\``;
            }
            deps.journal.superseded(`deployment.apps/${name} was changed since to run ${describeImages(now.spec?.template)}`);
            return `deployment/${name} was changed by someone else during the rollout: it now runs ${describeImages(now.spec?.template)}${now.metadata?.annotations?.[CHANGE_CAUSE] && now.metadata.annotations[CHANGE_CAUSE] !== cause ? ` (change-cause "${now.metadata.annotations[CHANGE_CAUSE]}")` : ''}, not ${describeImages(images)}; see \`kubectl mlops history ${name}${nsFlag}\``;
          },
        }),
      );
      deps.journal.confirm(key);
      final = done.deployment;
    }
    // 6. Report.
    if (printer.structured) {
      await printer.print(deps, { items: [withKind(final, 'Deployment', 'apps/v1')] });
    } else if (format === 'name') deps.out.write(`deployment.apps/${name}\n`);
    else deps.out.write(`deployment.apps/${name} ${waits ? 'rolled out' : r.changed ? 'updated' : 'unchanged'}\n`);
  });
}
