// The Examples section of every command's --help, in kubectl's layout (an indented
// `# comment` line, then the command), drawn from the tutorial's workloads: the my-app and
// nginx-deployment Deployments, the red-app pod, greeting-config, the myclaim claim.
// src/program.ts attaches them by command path, so command files need no edits.

export const EXAMPLES: Record<string, [comment: string, command: string][]> = {
  '': [
    ['Check the kubeconfig, the connection and which commands you may run', 'kubectl mlops doctor'],
    ['Ship a new image to a Deployment and wait for the rollout', 'kubectl mlops ship my-app my-app=yoonjeong/my-app:1.1'],
    ['See which pods use the claim myclaim, and why it is Pending', 'kubectl mlops storage myclaim'],
  ],
  version: [
    ['Print the plugin, Node.js and API server versions', 'kubectl mlops version'],
    ['Only the client versions, as JSON', 'kubectl mlops version --client -o json'],
    ['Only the server version, for a script', "kubectl mlops version -o jsonpath='{.serverVersion}'"],
  ],
  doctor: [
    ['Check the current context', 'kubectl mlops doctor'],
    ['Check another namespace, as JSON', 'kubectl mlops doctor -n team-a -o json'],
    ['List the commands you may not run here', 'kubectl mlops doctor -o jsonpath=\'{range .commands[?(@.allowed==false)]}{.command}{"\\n"}{end}\''],
  ],
  'debug-pod': [
    ['Take a misbehaving pod of my-app out of its ReplicaSet; a replacement keeps serving', 'kubectl mlops debug-pod my-app-7c9d8b6f5-x2k4q'],
    ['Also remove it from every Service, keep it for a day and show its last logs', 'kubectl mlops debug-pod my-app-7c9d8b6f5-x2k4q --isolate --ttl 24h --logs 50'],
    ['See what would change, without changing anything', 'kubectl mlops debug-pod my-app-7c9d8b6f5-x2k4q --dry-run=client'],
  ],
  'debug-pod list': [
    ['List the detached pods of the current namespace', 'kubectl mlops debug-pod list'],
    ['Watch a debug pod appear and change, across namespaces', 'kubectl mlops debug-pod list -A -w'],
    ['Names and nodes only, oldest first', 'kubectl mlops debug-pod list -o custom-columns=NAME:.metadata.name,NODE:.spec.nodeName --sort-by=.metadata.creationTimestamp'],
    ['The names alone, for a script', "kubectl mlops debug-pod list -o jsonpath='{.items[*].metadata.name}'"],
  ],
  'debug-pod done': [
    ['Delete a detached debug pod when you are finished', 'kubectl mlops debug-pod done my-app-7c9d8b6f5-x2k4q'],
    ['Delete every detached pod past its --ttl, in all namespaces, without asking', 'kubectl mlops debug-pod done --expired -A --yes'],
    ['Only the names of the deleted pods, as kubectl delete -o name', 'kubectl mlops debug-pod done --expired --yes -o name'],
  ],
  history: [
    ['Show the rollout history of nginx-deployment', 'kubectl mlops history nginx-deployment'],
    ['Show revision 2 and its pod template', 'kubectl mlops history nginx-deployment --revision 2'],
    ['Compare the pod templates of revisions 1 and 3', 'kubectl mlops history nginx-deployment --diff 1 3'],
    [
      'The images of every revision, oldest first, without headers',
      'kubectl mlops history nginx-deployment -o custom-columns=REVISION:.revision,IMAGES:.images --sort-by=.created --no-headers',
    ],
  ],
  ship: [
    ['Roll nginx-deployment out to a new image and wait until it is done', 'kubectl mlops ship nginx-deployment nginx=nginx:1.16.1'],
    ['Record why, in the change-cause that history shows', 'kubectl mlops ship my-app my-app=yoonjeong/my-app:1.1 --cause "retrained on November data"'],
    ['Ask the server to validate the change, without changing anything', 'kubectl mlops ship my-app my-app=yoonjeong/my-app:1.1 --dry-run=server'],
  ],
  rollback: [
    ['Roll nginx-deployment back to the previous revision', 'kubectl mlops rollback nginx-deployment'],
    ['Roll back to revision 1 and keep a pod of the bad revision for debugging', 'kubectl mlops rollback nginx-deployment --to-revision 1 --keep-for-debug'],
    ['Put a bare ReplicaSet back on its old image', 'kubectl mlops rollback rs/myapp-replicaset myapp=yoonjeong/my-app:1.0 --yes'],
  ],
  'scale-to-zero': [
    ['Free the GPUs of my-app until tomorrow; restore brings it back', 'kubectl mlops scale-to-zero deploy/my-app'],
    ['Every workload labelled app=notebook, removing its HPA too', 'kubectl mlops scale-to-zero -l app=notebook --with-hpa'],
    ['List what this plugin scaled to zero, in every namespace', 'kubectl mlops scale-to-zero --list -A'],
    ['Watch that list: a line whenever one is scaled to zero, scaled up by hand or restored', 'kubectl mlops scale-to-zero --list -w'],
    ['Delete nginx-deployment gracefully, saving its manifest first', 'kubectl mlops scale-to-zero deploy/nginx-deployment --delete --save nginx-deployment.yaml'],
  ],
  restore: [
    ['Scale my-app back to its recorded replica count', 'kubectl mlops restore deploy/my-app'],
    ['Restore every workload labelled app=notebook', 'kubectl mlops restore -l app=notebook'],
  ],
  config: [
    ['Create or update greeting-config from literals', 'kubectl mlops config greeting-config --from-literal STUDENT_NAME=Kim --from-literal MESSAGE=hello'],
    [
      'From a folder and a .env file, then wire it into my-app as env vars and roll it out',
      'kubectl mlops config greeting-config --from-file ./conf --from-env-file app.env --wire deploy/my-app',
    ],
    [
      'Mount nginx-config into nginx-deployment as files',
      'kubectl mlops config nginx-config --from-file nginx.conf --wire deploy/nginx-deployment --wire-as volume --mount-path /etc/nginx/conf.d',
    ],
  ],
  secret: [
    ['Create or update a Secret from a literal; values are never printed', 'kubectl mlops secret db-credentials --from-literal password=s3cret'],
    ['A TLS Secret from a certificate and its key', 'kubectl mlops secret my-app-tls --tls --cert tls.crt --key tls.key'],
  ],
  'secret view': [
    ["Show a Secret's keys, sizes and types (no values)", 'kubectl mlops secret view db-credentials'],
    ['Print one raw value, for a pipe', 'kubectl mlops secret view db-credentials password --reveal'],
    ['The key names alone', "kubectl mlops secret view db-credentials -o jsonpath='{.keys[*].key}'"],
    ['Keys and sizes as columns, one row per key (never a value)', 'kubectl mlops secret view db-credentials -o custom-columns=KEY:.key,SIZE:.size'],
  ],
  storage: [
    ['List the claims of the current namespace with their volume, class and pods', 'kubectl mlops storage'],
    ['Why is myclaim Pending? Its chain as a tree, with events', 'kubectl mlops storage myclaim'],
    ['Watch the claims of the namespace bind (a line per change; Ctrl-C to stop)', 'kubectl mlops storage -w'],
    ['Claims labelled app=train in every namespace, smallest first', 'kubectl mlops storage -A -l app=train --sort-by=.capacity'],
    ['Names and status only, without headers', 'kubectl mlops storage -o custom-columns=NAME:.name,STATUS:.status --no-headers'],
    ['The names of the Pending claims', 'kubectl mlops storage -o jsonpath=\'{.claims[?(@.status=="Pending")].name}\''],
  ],
  gpus: [
    ['Where the GPUs are, who holds them and who waits, across namespaces', 'kubectl mlops gpus -A'],
    ['The nodes where a training pod of 4 GPUs would fit now', 'kubectl mlops gpus --fit 4'],
    ['Where a pod of one MIG slice fits', 'kubectl mlops gpus --fit 1 --resource nvidia.com/mig-1g.10gb'],
    ["Only team vision's GPU pods (node totals still count every pod)", 'kubectl mlops gpus -A -l team=vision'],
    ['Node rows with the fewest free GPUs first (holders and waiting pods keep their order), without headers', 'kubectl mlops gpus --sort-by=.free --no-headers'],
    ['Free GPUs per node, for a script', 'kubectl mlops gpus -o jsonpath=\'{range .nodes[*]}{.name}{"\\t"}{.resources[0].free}{"\\n"}{end}\''],
  ],
  'storage pv': [
    ['List PersistentVolumes; Available and Released ones are called out', 'kubectl mlops storage pv'],
    ['Watch volumes change phase', 'kubectl mlops storage pv -w'],
    ['The Released volumes, one per line', 'kubectl mlops storage pv -o jsonpath=\'{range .volumes[?(@.status=="Released")]}{.name}{"\\n"}{end}\''],
  ],
  'storage reclaim': [
    ['Make a Released volume Available again (its data stays on it)', 'kubectl mlops storage reclaim pvc-3f1c2b7a --yes'],
    ['See what would change first', 'kubectl mlops storage reclaim pvc-3f1c2b7a --dry-run=client'],
    ['Only the volume name, as kubectl patch -o name', 'kubectl mlops storage reclaim pvc-3f1c2b7a --yes -o name'],
  ],
  completion: [
    ['Load completion for kubectl-mlops in the current bash shell', 'source <(kubectl-mlops completion bash)'],
    ['Install it for zsh', 'kubectl-mlops completion zsh > "${fpath[1]}/_kubectl-mlops"'],
  ],
};

/** kubectl's layout: two spaces, `# comment`, the command, a blank line between examples. */
export function examplesText(path: string): string | undefined {
  const list = EXAMPLES[path];
  if (!list?.length) return undefined;
  return '\nExamples:\n' + list.map(([c, cmd]) => `  # ${c}\n  ${cmd}`).join('\n\n') + '\n';
}
