// Dashboards, datasources and correlations checked without Grafana: the committed JSON is
// what the TypeScript generates, every query parses with the grammars Grafana's own editors
// use, LogQL selects only real Loki stream labels, and every datasource reference resolves.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parser as logqlParser } from '@grafana/lezer-logql';
import { parser as promqlParser } from '@prometheus-io/lezer-promql';
import { expect } from 'chai';
import { parse } from 'yaml';
import { DASHBOARDS, render } from '../../grafana/src/dashboards.ts';
import { renderDatasources } from '../../grafana/src/datasources.ts';
import {
  ALL_QUERIES,
  CORRELATIONS,
  DATA_LINK_LOGQL,
  DERIVED_FIELD_LOGQL,
  EXAMPLE_VARIABLES,
  LOGQL_QUERIES,
  LOKI_STREAM_LABELS,
  PROMQL_QUERIES,
  TRACE_SEARCHES,
  TRACE_TO_LOGS,
  TRACE_TO_METRICS,
  VARIABLE_QUERIES,
  substituteVariables,
} from '../../grafana/src/queries.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const DATASOURCES_FILE = path.join(ROOT, 'grafana/provisioning/datasources/datasources.yaml');

interface ProvisionedDatasource {
  uid: string;
  type: string;
  jsonData?: {
    derivedFields?: {
      name: string;
      matcherType: string;
      matcherRegex: string;
      datasourceUid?: string;
      url: string;
    }[];
    tracesToLogsV2?: { datasourceUid: string; customQuery: boolean; query: string };
    tracesToMetrics?: {
      datasourceUid: string;
      tags: { key: string; value: string }[];
      queries: { name: string; query: string }[];
    };
  };
  correlations?: {
    targetUID: string;
    config: {
      type: string;
      field: string;
      target: { expr: string };
      transformations?: { type: string; field: string; expression: string; mapValue: string }[];
    };
  }[];
}

const provisioningText = readFileSync(DATASOURCES_FILE, 'utf8');
const provisioned = (parse(provisioningText) as { datasources: ProvisionedDatasource[] })
  .datasources;
/** What Grafana sees after its env expansion: `$$` is a literal `$`. */
const unescape = (text: string) => text.replaceAll('$$', '$');

function syntaxErrors(tree: {
  iterate: (spec: { enter: (node: { type: { isError: boolean }; from: number }) => void }) => void;
}): number[] {
  const errors: number[] = [];
  tree.iterate({
    enter: (node) => {
      if (node.type.isError) errors.push(node.from);
    },
  });
  return errors;
}

function promqlErrors(expr: string): number[] {
  return syntaxErrors(promqlParser.parse(expr));
}

function logqlErrors(expr: string): number[] {
  return syntaxErrors(logqlParser.parse(expr));
}

/** Label names used in LogQL stream selectors (`{...}`), not in later pipeline filters. */
function streamSelectorLabels(expr: string): string[] {
  const labels: string[] = [];
  const cursor = logqlParser.parse(expr).cursor();
  do {
    if (cursor.name !== 'Selector') continue;
    const selector = cursor.node;
    for (const matcher of selector
      .getChildren('Matchers')
      .flatMap(function all(node): (typeof node)[] {
        return [...node.getChildren('Matcher'), ...node.getChildren('Matchers').flatMap(all)];
      })) {
      const name = matcher.getChild('Identifier');
      if (name) labels.push(expr.slice(name.from, name.to));
    }
  } while (cursor.next());
  return labels;
}

/**
 * Every `expr` of every panel target in the generated dashboards (Jaeger searches have none;
 * they are checked on their own).
 */
function dashboardExprs(): { dashboard: string; expr: string; uid: string | undefined }[] {
  return DASHBOARDS.flatMap(({ file, build }) =>
    (build().panels ?? []).flatMap((panel) =>
      ('targets' in panel ? (panel.targets ?? []) : [])
        .filter(
          (target) => (target as { datasource?: { uid?: string } }).datasource?.uid !== 'jaeger',
        )
        .map((target) => ({
          dashboard: file,
          expr: String((target as { expr?: string }).expr),
          uid: (target as { datasource?: { uid?: string } }).datasource?.uid,
        })),
    ),
  );
}

/** Walks any JSON value, collecting every `datasource` reference's uid. */
function datasourceUids(value: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) datasourceUids(item, found);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (key === 'datasource' && child !== null && typeof child === 'object' && 'uid' in child) {
        found.add(String(child.uid));
      } else if (key === 'datasource' && typeof child === 'string') {
        found.add(child);
      }
      datasourceUids(child, found);
    }
  }
  return found;
}

describe('Grafana dashboards as code', () => {
  for (const { file, build } of DASHBOARDS) {
    it(`grafana/dashboards/${file} is what \`npm run dashboards\` generates`, () => {
      const committed = readFileSync(path.join(ROOT, 'grafana/dashboards', file), 'utf8');
      expect(JSON.parse(committed), 'stale: run npm run dashboards').to.deep.equal(
        JSON.parse(render(build())),
      );
    });
  }

  it('exports every dashboard expression from grafana/src/queries.ts', () => {
    const known = new Set(ALL_QUERIES.map((query) => query.expr));
    const used = dashboardExprs();
    expect(used.length).to.be.greaterThan(20);
    for (const { dashboard, expr } of used) {
      expect(known.has(expr), `${dashboard}: ${expr} is not in queries.ts`).to.equal(true);
    }
  });

  it('gives the two dashboards distinct uids and titles', () => {
    const dashboards = DASHBOARDS.map(({ build }) => build());
    expect(new Set(dashboards.map((d) => d.uid)).size).to.equal(dashboards.length);
    expect(new Set(dashboards.map((d) => d.title)).size).to.equal(dashboards.length);
  });

  it('links metric panels to the matching LogQL query in Explore', () => {
    const urls = DASHBOARDS.flatMap(({ build }) =>
      (build().panels ?? []).flatMap((panel) =>
        'fieldConfig' in panel
          ? (panel.fieldConfig?.defaults.links ?? []).map((l) => l.url ?? '')
          : [],
      ),
    );
    const linked = urls.map((url) => {
      expect(url).to.match(/^\/explore\?schemaVersion=1&orgId=1&panes=/);
      // Grafana fills in `${x:percentencode}` when the link is clicked; decode as it would.
      const panes = JSON.parse(
        decodeURIComponent(url.split('panes=')[1] ?? '').replace(/:percentencode\}/g, '}'),
      ) as { logs: { datasource: string; queries: { expr: string }[] } };
      expect(panes.logs.datasource).to.equal('loki');
      return substituteVariables(panes.logs.queries[0]?.expr ?? '', EXAMPLE_VARIABLES);
    });
    for (const query of Object.values(DATA_LINK_LOGQL)) {
      const expected = substituteVariables(query.expr, EXAMPLE_VARIABLES);
      expect(linked, `${query.id} is used by a data link`).to.include(expected);
    }
  });
});

describe('PromQL expressions (dashboards and correlations)', () => {
  it('the parser check catches a syntax error', () => {
    expect(promqlErrors('sum(rate(http_server_request_duration_count[5m])')).to.not.have.lengthOf(
      0,
    );
    expect(promqlErrors('sum by (le) (rate(x{a="b"}[1m])) +')).to.not.have.lengthOf(0);
  });

  for (const query of PROMQL_QUERIES) {
    it(`${query.id} parses`, () => {
      const expr = substituteVariables(query.expr, EXAMPLE_VARIABLES);
      expect(expr).to.not.include('$');
      expect(promqlErrors(expr), expr).to.deep.equal([]);
    });
  }

  it('the selectors of the variable queries parse', () => {
    for (const [name, query] of Object.entries(VARIABLE_QUERIES)) {
      if (name === 'service') continue; // a Loki label query
      const selector = /^label_values\((.+), (\w+)\)$/.exec(query)?.[1];
      expect(selector, name).to.be.a('string');
      expect(
        promqlErrors(substituteVariables(selector ?? '', EXAMPLE_VARIABLES)),
        name,
      ).to.deep.equal([]);
    }
  });
});

describe('LogQL expressions (dashboards, data links, derived fields)', () => {
  it('the parser check catches a syntax error', () => {
    expect(logqlErrors('{service_name="shop-api" | json')).to.not.have.lengthOf(0);
    expect(logqlErrors('sum(count_over_time({service_name="x"}))')).to.not.have.lengthOf(0);
  });

  it('the stream-label check sees selector labels but not pipeline filters', () => {
    expect(
      streamSelectorLabels('{service_name="a", http_route="/x"} | json | status_code="500"'),
    ).to.have.members(['service_name', 'http_route']);
  });

  for (const query of LOGQL_QUERIES) {
    it(`${query.id} parses and selects streams by Loki labels only`, () => {
      const expr = substituteVariables(query.expr, EXAMPLE_VARIABLES);
      expect(expr).to.not.include('$');
      expect(logqlErrors(expr), expr).to.deep.equal([]);
      const labels = streamSelectorLabels(expr);
      expect(labels, expr).to.not.have.lengthOf(0);
      for (const label of labels) {
        expect(LOKI_STREAM_LABELS as readonly string[], `${label} in ${expr}`).to.include(label);
      }
    });
  }
});

describe('Grafana provisioning', () => {
  const uids = new Set(provisioned.map((ds) => ds.uid));
  const loki = provisioned.find((ds) => ds.uid === 'loki');

  it('is what `npm run dashboards` generates from grafana/src/datasources.ts', () => {
    expect(provisioningText, 'stale: run npm run dashboards').to.equal(renderDatasources());
  });

  it('provisions Prometheus, Loki and Jaeger with the fixed uids the dashboards use', () => {
    expect(provisioned.map(({ uid, type }) => ({ uid, type }))).to.deep.include.members([
      { uid: 'prometheus', type: 'prometheus' },
      { uid: 'loki', type: 'loki' },
      { uid: 'jaeger', type: 'jaeger' },
    ]);
  });

  it('resolves every datasource uid referenced by dashboards and correlations', () => {
    const referenced = new Set<string>();
    for (const { build } of DASHBOARDS) datasourceUids(build(), referenced);
    for (const ds of provisioned) {
      for (const correlation of ds.correlations ?? []) referenced.add(correlation.targetUID);
      for (const field of ds.jsonData?.derivedFields ?? []) {
        if (field.datasourceUid) referenced.add(field.datasourceUid);
      }
    }
    const jaeger = provisioned.find((ds) => ds.uid === 'jaeger');
    if (jaeger?.jsonData?.tracesToLogsV2)
      referenced.add(jaeger.jsonData.tracesToLogsV2.datasourceUid);
    if (jaeger?.jsonData?.tracesToMetrics) {
      referenced.add(jaeger.jsonData.tracesToMetrics.datasourceUid);
    }
    expect([...referenced]).to.have.members(['prometheus', 'loki', 'jaeger']);
    for (const uid of referenced) expect(uids.has(uid), uid).to.equal(true);
  });

  it('escapes every literal $ from Grafana env expansion', () => {
    // A single `$x` or `${x}` would be replaced by an (empty) environment variable.
    const content = provisioningText.replace(/^\s*#.*$/gm, '');
    const withoutEscapes = content.replaceAll('$$', '');
    expect(withoutEscapes).to.not.include('$');
  });

  it('provisions exactly the correlation queries of queries.ts, on the log line', () => {
    const provisionedExprs = (loki?.correlations ?? []).map((c) => unescape(c.config.target.expr));
    expect(provisionedExprs).to.deep.equal(Object.values(CORRELATIONS).map((q) => q.expr));
    for (const correlation of loki?.correlations ?? []) {
      expect(correlation.targetUID).to.equal('prometheus');
      expect(correlation.config).to.include({ type: 'query', field: 'Line' });
    }
  });

  it('fills every correlation variable from a real access log line', () => {
    // The consumer writes the record's attributes as JSON.stringify does (see consumer-mapping).
    const line = JSON.stringify({
      msg: 'GET /users/42 404',
      http_request_method: 'GET',
      http_route: '/users/:id',
      url_path: '/users/42',
      http_response_status_code: 404,
    });
    for (const correlation of loki?.correlations ?? []) {
      const values: Record<string, string> = { __rate_interval: '1m' };
      for (const transformation of correlation.config.transformations ?? []) {
        expect(transformation).to.include({ type: 'regex', field: 'Line' });
        const match = new RegExp(transformation.expression).exec(line);
        expect(match?.[1], transformation.expression).to.be.a('string');
        values[transformation.mapValue] = match?.[1] ?? '';
      }
      const expr = substituteVariables(unescape(correlation.config.target.expr), values);
      expect(expr).to.include('http_route="/users/:id"');
      expect(promqlErrors(expr)).to.deep.equal([]);
    }
  });

  it('links trace_id to its trace in Jaeger, and trace_id and request_id to their logs', () => {
    const fields = loki?.jsonData?.derivedFields ?? [];
    expect(fields.map((f) => [f.matcherType, f.matcherRegex, f.datasourceUid])).to.deep.equal([
      ['label', 'trace_id', 'jaeger'],
      ['label', 'trace_id', undefined],
      ['label', 'request_id', undefined],
    ]);
    // An internal link to a tracing datasource: the query is the trace id itself.
    expect(unescape(fields[0]?.url ?? '')).to.equal('${__value.raw}');
    // The log-to-log pivots are Explore URLs that carry their LogQL (an internal Loki link
    // would open an empty editor), each one the query of queries.ts.
    const carried = fields.slice(1).map((field) => {
      const url = unescape(field.url);
      expect(url).to.match(/^\/explore\?schemaVersion=1&orgId=1&panes=/);
      const panes = JSON.parse(
        decodeURIComponent(url.split('panes=')[1] ?? '').replace(/:percentencode\}/g, '}'),
      ) as { logs: { datasource: string; queries: { expr: string }[] } };
      expect(panes.logs.datasource).to.equal('loki');
      return panes.logs.queries[0]?.expr;
    });
    expect(carried).to.deep.equal(Object.values(DERIVED_FIELD_LOGQL).map((q) => q.expr));
  });

  it('pivots from a span to the logs of its trace and to the metrics of its route', () => {
    const jaeger = provisioned.find((ds) => ds.uid === 'jaeger');
    const toLogs = jaeger?.jsonData?.tracesToLogsV2;
    expect(toLogs).to.include({ datasourceUid: 'loki', customQuery: true });
    expect(unescape(toLogs?.query ?? '')).to.equal(TRACE_TO_LOGS.expr);
    const toMetrics = jaeger?.jsonData?.tracesToMetrics;
    expect(toMetrics?.datasourceUid).to.equal('prometheus');
    // The span attribute named by the HTTP semantic conventions, mapped to the metric's label.
    expect(toMetrics?.tags).to.deep.equal([{ key: 'http.route', value: 'http_route' }]);
    expect(toMetrics?.queries.map((q) => unescape(q.query))).to.deep.equal(
      Object.values(TRACE_TO_METRICS).map((q) => q.expr),
    );
  });

  it('searches traces of one route from the dashboard, by error tag and by duration', () => {
    const targets = DASHBOARDS.flatMap(({ build }) =>
      (build().panels ?? []).flatMap((panel) => ('targets' in panel ? (panel.targets ?? []) : [])),
    ).filter(
      (target) => (target as { datasource?: { uid?: string } }).datasource?.uid === 'jaeger',
    ) as unknown as { queryType: string; service: string; tags: string; minDuration?: string }[];
    expect(
      targets.map(({ queryType, service, tags }) => ({ queryType, service, tags })),
    ).to.deep.equal(
      Object.values(TRACE_SEARCHES).map(({ service, tags }) => ({
        queryType: 'search',
        service,
        tags,
      })),
    );
    for (const search of Object.values(TRACE_SEARCHES)) {
      expect(substituteVariables(search.tags, EXAMPLE_VARIABLES)).to.match(
        /^http\.route="\/users\/:id"( http\.response\.status_code=500)?$/,
      );
    }
  });
});
