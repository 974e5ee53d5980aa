import type { Command } from 'commander';
import type { Deps } from '../deps.js';
import type { Deployment } from '../kube/types.js';
import { addOutputOption, connectFrom, printerOf } from './common.js';
import { renderData } from '../output/printer.js';
import { age } from '../util/duration.js';
import { R, pathOf } from '../kube/resources.js';
import { UsageError } from '../errors.js';
import { REVISION, diffTemplates, missingRevision, renderDiff, revisionsOf, cleanTemplate, type Revision } from '../workloads/rollout.js';
import { deploymentName, parseRevision } from '../workloads/targets.js';

// Read-only: no pre-flight; a denied read reports itself (the server names verb and resource).
export function register(program: Command, deps: Deps): void {
  const cmd = program
    .command('history')
    .description('rollout history of a Deployment: change-cause, images, age and readiness per revision')
    .argument('<deployment>', 'NAME or deploy/NAME')
    .option('--revision <n>', "print that revision's pod template")
    .option('--diff <revisions...>', 'compare the pod templates of two revisions: --diff A B');
  addOutputOption(cmd, ['table', 'wide', 'json', 'yaml'], { list: true });
  cmd.action(async (target: string) => {
    // 1. Options, no I/O.
    const o = cmd.opts<{ revision?: string; diff?: string[] }>();
    const printer = printerOf(cmd);
    const name = deploymentName(target);
    const revision = o.revision === undefined ? undefined : parseRevision(o.revision, '--revision');
    if (o.diff && o.diff.length !== 2) throw new UsageError(`--diff takes exactly two revisions (got ${o.diff.length})`);
    const diff = o.diff?.map((d) => parseRevision(d, '--diff'));
    if (revision !== undefined && o.diff) throw new UsageError('--revision and --diff cannot be used together');
    // 2. Reads.
    const { kube, namespace } = await connectFrom(cmd, deps);
    const d = await kube.get<Deployment>(pathOf(R.deployments, { namespace, name }));
    const revisions = await revisionsOf(kube, d);
    const current = Number(d.metadata?.annotations?.[REVISION] ?? revisions.at(-1)?.revision ?? 0);
    const find = (n: number) =>
      revisions.find((r) => r.revision === n) ??
      (() => {
        throw missingRevision(n, name, revisions);
      })();

    if (diff) {
      const [a, b] = [find(diff[0]), find(diff[1])];
      const lines = diffTemplates(a.rs.spec?.template, b.rs.spec?.template);
      if (!printer.human) await printer.printDocument(deps, { from: a.revision, to: b.revision, changes: lines });
      else deps.out.write(`deployment.apps/${name}: revision ${a.revision} -> ${b.revision}\n${renderDiff(lines)}`);
      return;
    }
    if (revision !== undefined) {
      const r = find(revision);
      const data = { revision: r.revision, changeCause: r.changeCause || null, replicaSet: r.rs.metadata?.name, template: cleanTemplate(r.rs.spec?.template) };
      if (!printer.human) {
        await printer.printDocument(deps, data);
      } else {
        deps.out.write(`deployment.apps/${name} with revision #${r.revision}\nChange-cause: ${r.changeCause || '<none>'}\nPod Template:\n`);
        const yaml = await renderData(data.template, 'yaml');
        deps.out.write(yaml.replace(/^/gm, '  ').replace(/ +$/gm, ''));
      }
      return;
    }
    const now = deps.now();
    const toJSON = (r: Revision) => ({
      revision: r.revision,
      current: r.revision === current,
      changeCause: r.changeCause || null,
      images: r.images,
      created: r.created,
      ready: r.ready,
      desired: r.desired,
      replicaSet: r.rs.metadata?.name,
    });
    await printer.print(deps, {
      items: revisions,
      data: (revs) => ({ deployment: name, namespace, currentRevision: current, revisions: revs.map(toJSON) }),
      object: toJSON,
      empty: `No rollout history found for deployment/${name}.`,
      columns: [
        { header: 'REVISION', value: (r: Revision) => `${r.revision}${r.revision === current ? '*' : ''}` },
        { header: 'CHANGE-CAUSE', value: (r) => r.changeCause || '<none>' },
        { header: 'IMAGES', value: (r) => r.images.join(',') },
        { header: 'CREATED', value: (r) => age(r.created, now) },
        { header: 'READY', value: (r) => `${r.ready}/${r.desired}` },
        { header: 'REPLICASET', value: (r) => r.rs.metadata?.name, wide: true },
      ],
    });
  });
}
