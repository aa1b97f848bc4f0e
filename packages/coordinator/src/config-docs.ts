import { CONFIG_TABLE, type ConfigField } from './config-fields.js';

/** Markers around the generated table in the package README. */
export const CONFIG_TABLE_MARKERS = Object.freeze({
  start: '<!-- config-table:start (generated from CONFIG_TABLE: pnpm --filter @lix/coordinator docs) -->',
  end: '<!-- config-table:end -->',
});

function shownDefault(spec: ConfigField<unknown>): string {
  if (spec.shownDefault !== undefined) return spec.shownDefault;
  const value = spec.default;
  if (value === undefined) return 'unset';
  if (typeof value === 'string') return `\`'${value}'\``;
  if (typeof value === 'number') return `\`${value >= 10_000 ? value.toLocaleString('en-US').replace(/,/g, '_') : value}\``;
  return `\`${JSON.stringify(value)}\``;
}

/** The README's settings table, generated from {@link CONFIG_TABLE}. */
export function configTableMarkdown(): string {
  const rows = Object.entries(CONFIG_TABLE).map(
    ([name, spec]: [string, ConfigField<unknown>]) => `| \`${name}\` | \`${spec.env}\` | ${shownDefault(spec)} | ${spec.accepts} | ${spec.doc} |`,
  );
  return ['| field | env variable (`{PREFIX}_…`) | default | accepted values | what it does |', '|---|---|---|---|---|', ...rows].join('\n');
}

/** `readme` with the text between the markers replaced by the generated table. */
export function withConfigTable(readme: string): string {
  const start = readme.indexOf(CONFIG_TABLE_MARKERS.start);
  const end = readme.indexOf(CONFIG_TABLE_MARKERS.end);
  if (start < 0 || end < start) throw new Error('README has no config-table markers');
  return `${readme.slice(0, start + CONFIG_TABLE_MARKERS.start.length)}\n${configTableMarkdown()}\n${readme.slice(end)}`;
}
