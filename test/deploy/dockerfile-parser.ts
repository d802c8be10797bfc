/** A small Dockerfile reader for the deploy tests: instructions with their stage, continuations joined, comments dropped. */

export interface Instruction {
  keyword: string;
  args: string;
  /** Index of the stage (0 = first FROM); -1 before any FROM (global ARGs). */
  stage: number;
  line: number;
}

export interface Stage {
  index: number;
  name?: string;
  /** Base image with `${ARG}` references resolved from global ARG defaults. */
  image: string;
  instructions: Instruction[];
}

export function parseDockerfile(text: string): { instructions: Instruction[]; stages: Stage[]; globalArgs: Record<string, string> } {
  const instructions: Instruction[] = [];
  const stages: Stage[] = [];
  const globalArgs: Record<string, string> = {};
  const lines = text.split('\n');
  let stage = -1;
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let logical = lines[i]!;
    if (/^\s*#/.test(logical) || logical.trim() === '') continue;
    while (/\\\s*$/.test(logical) && i + 1 < lines.length) {
      i += 1;
      const next = lines[i]!;
      if (/^\s*#/.test(next)) continue; // comment lines inside a continuation are skipped by Docker too
      logical = logical.replace(/\\\s*$/, ' ') + next.trim();
    }
    const match = /^\s*([A-Za-z]+)\s+(.*)$/.exec(logical);
    if (!match) throw new Error(`line ${start + 1}: cannot parse "${logical}"`);
    const keyword = match[1]!.toUpperCase();
    const args = match[2]!.trim();
    if (keyword === 'FROM') {
      stage += 1;
      const [image, as, name] = args.split(/\s+/);
      const resolved = image!.replace(/\$\{?(\w+)\}?/g, (_m, v: string) => globalArgs[v] ?? '');
      stages.push({ index: stage, name: as?.toUpperCase() === 'AS' ? name : undefined, image: resolved, instructions: [] });
    } else if (keyword === 'ARG' && stage === -1) {
      const [k, v] = args.split('=');
      globalArgs[k!] = v ?? '';
    }
    const inst = { keyword, args, stage, line: start + 1 };
    instructions.push(inst);
    if (stage >= 0) stages[stage]!.instructions.push(inst);
  }
  return { instructions, stages, globalArgs };
}

/** `ENV A=1 B=2` (and the legacy `ENV A 1`) as key/value pairs. */
export function envPairs(args: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!args.includes('=')) {
    const [k, ...rest] = args.split(/\s+/);
    out[k!] = rest.join(' ');
    return out;
  }
  for (const m of args.matchAll(/(\w+)=("([^"]*)"|\S*)/g)) out[m[1]!] = m[3] ?? m[2]!;
  return out;
}
