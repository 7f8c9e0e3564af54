// Reads V8 .cpuprofile files (from `deno run --cpu-prof`) and prints the functions with the most
// self time: samples are charged to the node on top of the stack, and nodes are merged by
// function, file and line.
//
//   deno run -A bench/_cpuprofile_top.ts [--top N] FILE.cpuprofile...

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function where(frame: ProfileNode["callFrame"]): string {
  if (!frame.url) return "";
  const root = `file://${Deno.cwd()}/`;
  const url = frame.url.startsWith(root) ? frame.url.slice(root.length) : frame.url;
  return `${url}:${frame.lineNumber + 1}`;
}

function top(profile: Profile, count: number): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    // Each sample's time is the delta to the next one.
    const micros = profile.timeDeltas[i + 1] ?? 0;
    const { callFrame } = byId.get(id)!;
    const key = `${callFrame.functionName || "(anonymous)"}\t${where(callFrame)}`;
    self.set(key, (self.get(key) ?? 0) + micros);
    total += micros;
  });
  const busy = [...self].filter(([key]) => !key.startsWith("(idle)")).reduce(
    (sum, [, v]) => sum + v,
    0,
  );
  const lines = [...self].sort((a, b) => b[1] - a[1]).slice(0, count).map(([key, micros], i) => {
    const [name, at] = key.split("\t");
    const share = name === "(idle)" ? "-" : (micros / busy * 100).toFixed(1);
    return `| ${i + 1} | ${(micros / 1000).toFixed(1)} | ${share} | ` +
      `\`${name}\` | ${at} |`;
  });
  return [
    `total ${(total / 1000).toFixed(0)} ms sampled, ${(busy / 1000).toFixed(0)} ms not idle`,
    "",
    "| # | self ms | % of non-idle | function | file:line |",
    "|--:|--:|--:|---|---|",
    ...lines,
  ].join("\n");
}

if (import.meta.main) {
  const args = [...Deno.args];
  let count = 15;
  const flag = args.indexOf("--top");
  if (flag >= 0) {
    count = Number(args[flag + 1]);
    args.splice(flag, 2);
  }
  for (const file of args) {
    console.log(`## ${file}\n`);
    console.log(top(JSON.parse(await Deno.readTextFile(file)) as Profile, count));
    console.log();
  }
}
