/**
 * Reads a component's Prometheus text exposition (`GET <url>/metrics`), for tests and
 * benchmarks that check what a process reports about itself.
 */

/** The Prometheus text of `<url>/metrics`, for reading several metrics from one scrape. */
export async function scrapeText(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

/**
 * Sum of one metric's samples in a text exposition, optionally only those whose label set
 * contains `labelFragment` (e.g. `topic="api-logs-access"`). 0 when the metric is absent.
 */
export function sumOfSeries(text: string, name: string, labelFragment = ''): number {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .filter((line) => line.includes(labelFragment))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

/** Sum of one metric's series on `<url>/metrics` (see `sumOfSeries`). */
export async function scrapeMetric(url: string, name: string, labelFragment = ''): Promise<number> {
  return sumOfSeries(await scrapeText(url), name, labelFragment);
}
