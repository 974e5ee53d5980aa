// Shell completion: `__complete` (what kubectl >= 1.26 runs through kubectl_complete-mlops,
// cobra's protocol: `value\tdescription` lines, then `:<directive>`) and `completion SHELL`
// scripts for calling kubectl-mlops directly. Live names come from the API server with a
// short timeout; any error completes nothing.
import type { Command, Option } from 'commander';
import type { Deps } from '../deps.js';
import { R, pathOf, type Resource } from '../kube/resources.js';
import { UsageError } from '../errors.js';
import { outputFormatsOf } from './common.js';

const NO_SPACE = 2;
const NO_FILE = 4;
const FILES = 0;

interface Candidate {
  value: string;
  description?: string;
}

/** Options whose next word is a value, and what completes it. */
const VALUE_KINDS: Record<string, 'namespace' | 'context' | 'output' | 'file' | 'node' | 'none'> = {
  '--namespace': 'namespace',
  '-n': 'namespace',
  '--context': 'context',
  '--output': 'output',
  '-o': 'output',
  '--kubeconfig': 'file',
  '--from-file': 'file',
  '--from-env-file': 'file',
  '--from-dotenv': 'file',
  '--cert': 'file',
  '--key': 'file',
  '--ca': 'file',
  '--save': 'file',
  '--node': 'node',
};

/** What a positional argument of a command completes to. */
const POSITIONAL: Record<string, { res: Resource; prefix?: string; label?: string }> = {
  'debug-pod': { res: R.pods },
  'debug-pod done': { res: R.pods, label: 'mlops.kubectl.io/debug=true' },
  history: { res: R.deployments },
  ship: { res: R.deployments },
  rollback: { res: R.deployments },
  'scale-to-zero': { res: R.deployments, prefix: 'deploy/' },
  restore: { res: R.deployments, prefix: 'deploy/', label: 'mlops.kubectl.io/scaled-to-zero=true' },
  storage: { res: R.pvcs },
  'storage reclaim': { res: R.pvs },
  config: { res: R.configmaps },
  secret: { res: R.secrets },
  'secret view': { res: R.secrets },
};

export function register(program: Command, deps: Deps): void {
  program
    .command('completion')
    .description('print a shell completion script for kubectl-mlops: bash, zsh, fish or powershell')
    .argument('<shell>', 'bash, zsh, fish or powershell')
    .action((shell: string) => {
      const script = SCRIPTS[shell];
      if (!script) throw new UsageError(`unsupported shell "${shell}": want bash, zsh, fish or powershell`);
      deps.out.write(script);
    });
}

/** `kubectl-mlops __complete WORDS...`: handled before commander parses, so flags in WORDS stay words. */
export async function writeCompletion(program: Command, deps: Deps, words: string[]): Promise<void> {
  const { candidates, directive } = await complete(program, deps, words);
  deps.out.write(candidates.map((c) => (c.description ? `${c.value}\t${c.description}` : c.value)).join('\n') + (candidates.length ? '\n' : '') + `:${directive}\n`);
}

/**
 * A command's flags are its own: every command carries the global flags itself (program.ts),
 * and a parent's flags do not reach its subcommands (positional options), as with cobra's
 * local flags. `secret view --<TAB>` offers view's flags, not secret's --from-literal.
 */
function ownOptions(cmd: Command): readonly Option[] {
  return cmd.options;
}

function optionTakesValue(cmd: Command, flag: string): boolean {
  const o = ownOptions(cmd).find((x) => x.long === flag || x.short === flag);
  return Boolean(o?.required);
}

export async function complete(program: Command, deps: Deps, words: string[]): Promise<{ candidates: Candidate[]; directive: number }> {
  const partial = words.at(-1) ?? '';
  const before = words.slice(0, -1);
  let cmd = program;
  const path: string[] = [];
  const flags: Record<string, string> = {};
  let positionals = 0;
  for (let i = 0; i < before.length; i++) {
    const w = before[i];
    if (w.startsWith('-')) {
      const [flag, inline] = w.split('=', 2) as [string, string | undefined];
      if (inline === undefined && optionTakesValue(cmd, flag) && i + 1 < before.length) flags[flag] = before[++i]!;
      else if (inline !== undefined) flags[flag] = inline;
      continue;
    }
    const sub = positionals === 0 ? cmd.commands.find((c) => c.name() === w) : undefined;
    if (sub) {
      cmd = sub;
      path.push(w);
    } else positionals++;
  }
  const prev = before.at(-1);
  const prevFlag = prev?.startsWith('-') && !prev.includes('=') && optionTakesValue(cmd, prev) ? prev : undefined;
  const match = (cs: Candidate[]) => cs.filter((c) => c.value.startsWith(partial));

  if (prevFlag) {
    const kind = VALUE_KINDS[prevFlag] ?? 'none';
    if (kind === 'file') return { candidates: [], directive: FILES };
    if (kind === 'output') {
      const cs = match(outputFormatsOf(cmd).map((value) => ({ value })));
      // `-o jsonpath=` is completed without a space after it, so the template follows.
      return { candidates: cs, directive: NO_FILE | (cs.some((c) => c.value.endsWith('=')) ? NO_SPACE : 0) };
    }
    if (kind === 'context') return { candidates: match(await contexts(deps, flags)), directive: NO_FILE };
    if (kind === 'namespace') return { candidates: match(await names(deps, flags, R.namespaces)), directive: NO_FILE };
    if (kind === 'node') return { candidates: match(await names(deps, flags, R.nodes)), directive: NO_FILE };
    return { candidates: [], directive: NO_FILE };
  }
  const inlineOutput = /^(-o|--output)=(.*)$/.exec(partial);
  if (inlineOutput) {
    const [, flag = '', value = ''] = inlineOutput;
    const cs = outputFormatsOf(cmd)
      .filter((v) => v.startsWith(value))
      .map((v) => ({ value: `${flag}=${v}` }));
    return { candidates: cs, directive: NO_FILE | (cs.some((c) => c.value.endsWith('=')) ? NO_SPACE : 0) };
  }
  if (partial.startsWith('-')) {
    const seen = new Set<string>();
    const out: Candidate[] = [];
    for (const o of ownOptions(cmd)) {
      if (o.hidden || !o.long || seen.has(o.long)) continue;
      seen.add(o.long);
      out.push({ value: o.long, description: o.description });
    }
    return { candidates: match(out), directive: NO_FILE };
  }
  const out: Candidate[] = [];
  if (positionals === 0) {
    for (const c of cmd.commands) {
      if ((c as unknown as { _hidden?: boolean })._hidden || c.name() === 'help') continue;
      out.push({ value: c.name(), description: c.description() });
    }
  }
  const pos = POSITIONAL[path.join(' ')];
  if (pos && positionals === 0 && !(path.join(' ') === 'rollback' && partial.startsWith('rs/'))) {
    const items = await names(deps, flags, pos.res, pos.label);
    out.push(...items.map((i) => ({ value: `${pos.prefix ?? ''}${i.value}`, description: i.description })));
  }
  if (path[0] === 'completion' && positionals === 0) out.push(...['bash', 'zsh', 'fish', 'powershell'].map((value) => ({ value })));
  return { candidates: match(out), directive: NO_FILE };
}

async function contexts(deps: Deps, flags: Record<string, string>): Promise<Candidate[]> {
  try {
    const { contextNames } = await import('../kube/config.js');
    return contextNames({ kubeconfig: flags['--kubeconfig'] }, deps.env).map((c) => ({ value: c.name, description: `cluster ${c.cluster}` }));
  } catch {
    return [];
  }
}

async function names(deps: Deps, flags: Record<string, string>, res: Resource, labelSelector?: string): Promise<Candidate[]> {
  try {
    const { kube, namespace } = await deps.connect({
      kubeconfig: flags['--kubeconfig'],
      context: flags['--context'],
      namespace: flags['--namespace'] ?? flags['-n'],
      requestTimeoutMs: 2000,
    });
    const l = await kube.get<{ items: { metadata: { name: string } }[] }>(pathOf(res, { namespace: res.namespaced ? namespace : undefined }), { labelSelector, limit: 200 });
    return l.items.map((i) => ({ value: i.metadata.name }));
  } catch {
    return [];
  }
}

const SCRIPTS: Record<string, string> = {
  bash: `# bash completion for kubectl-mlops: source <(kubectl-mlops completion bash)
_kubectl_mlops() {
  local IFS=$'\\n' out
  out=$(kubectl-mlops __complete "\${COMP_WORDS[@]:1:$COMP_CWORD}" 2>/dev/null) || return
  local directive=\${out##*:}
  COMPREPLY=( $(printf '%s\\n' "$out" | grep -v '^:' | cut -f1) )
  if [[ \${#COMPREPLY[@]} -eq 0 && $directive == 0 ]]; then COMPREPLY=( $(compgen -f -- "\${COMP_WORDS[COMP_CWORD]}") ); fi
}
complete -F _kubectl_mlops kubectl-mlops
`,
  zsh: `#compdef kubectl-mlops
# zsh completion for kubectl-mlops: source <(kubectl-mlops completion zsh)
_kubectl_mlops() {
  local -a lines values
  lines=("\${(@f)$(kubectl-mlops __complete "\${words[@]:1:$((CURRENT-1))}" 2>/dev/null)}")
  local directive=\${lines[-1]#:}
  for l in "\${lines[@]:0:-1}"; do values+=("\${l//	/:}"); done
  if (( \${#values} )); then _describe 'kubectl-mlops' values; elif [[ $directive == 0 ]]; then _files; fi
}
compdef _kubectl_mlops kubectl-mlops
`,
  fish: `# fish completion for kubectl-mlops: kubectl-mlops completion fish | source
function __kubectl_mlops_complete
    set -l args (commandline -opc)[2..-1] (commandline -ct)
    kubectl-mlops __complete $args 2>/dev/null | string match -v -r '^:'
end
complete -c kubectl-mlops -f -a '(__kubectl_mlops_complete)'
`,
  powershell: `# PowerShell completion for kubectl-mlops: kubectl-mlops completion powershell | Out-String | Invoke-Expression
Register-ArgumentCompleter -Native -CommandName 'kubectl-mlops','kubectl-mlops.exe' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)
    $words = @($commandAst.CommandElements | Select-Object -Skip 1 | ForEach-Object { $_.ToString() })
    if ($wordToComplete -eq '') { $words += '' }
    & kubectl-mlops __complete @words 2>$null | Where-Object { $_ -notmatch '^:' } | ForEach-Object {
        $v, $d = $_ -split "\`t", 2
        [System.Management.Automation.CompletionResult]::new($v, $v, 'ParameterValue', $(if ($d) { $d } else { $v }))
    }
}
`,
};
