/** What the benchmark scripts share when they write their results. */

/** The middle value (upper middle for an even count); NaN when there is none. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

/** How this run was started, for the results: `npm run <script> -- <arguments>`. */
export function invokedCommand(npmScript: string): string {
  const args = process.argv.slice(2);
  return [`npm run ${npmScript}`, ...(args.length > 0 ? ['--', ...args] : [])].join(' ');
}
