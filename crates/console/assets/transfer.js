// Moving definitions: export (with a preview), import (dry run, then commit) and the
// comparison of a group between two environments or the drafts.
import { all, call, inst } from './api.js';
import { envOptions } from './pages.js';
import { h, show, say, attempt, table, field, select, pill, values } from './ui.js';

async function groupOptions(instanceId) {
  return (await all(inst(instanceId, '/api-groups'), 'groups')).map(g => [g.id, g.name]);
}

export async function exportPage(instanceId) {
  const [groups, envs] = await Promise.all([groupOptions(instanceId), envOptions(instanceId)]);
  const preview = h('pre', { class: 'preview', tabindex: '0', 'aria-label': 'Exported document', id: 'export-preview' }, 'Nothing exported yet.');
  const download = h('p', {});
  const form = h('form', { class: 'inline', 'aria-label': 'Export definitions' },
    field('Group', select('group_id', groups, groups[0]?.[0])),
    field('Environment', select('env_id', envs, envs[0]?.[0])),
    field('Definition level', select('define', [['spec', 'spec: the API only'], ['proxy', 'proxy: with backend'],
      ['all', 'all: with policies'], ['dev', 'dev: drafts, with backend']], 'spec')),
    field('Format', select('type', [['json', 'JSON'], ['yaml', 'YAML']], 'json')),
    field('OpenAPI version', select('oas_version', [['2.0', 'Swagger 2.0'], ['3.0', 'OpenAPI 3.0']], '2.0')),
    h('button', { type: 'submit' }, 'Export'));
  const envSelect = form.elements.env_id;
  form.elements.define.addEventListener('change', () => { envSelect.disabled = form.elements.define.value === 'dev'; });
  form.addEventListener('submit', event => attempt(async () => {
    event.preventDefault();
    const v = values(form);
    if (!v.group_id) return say('Create a group first', true);
    const response = await call('POST', inst(instanceId, '/openapi/export'), { raw: true, query: { oas_version: v.oas_version },
      body: { group_id: v.group_id, env_id: v.define === 'dev' ? undefined : v.env_id, define: v.define, type: v.type } });
    const text = await response.text();
    const name = /filename="?([^";]+)"?/.exec(response.headers.get('Content-Disposition') || '')?.[1] || `export.${v.type}`;
    preview.textContent = text;
    const url = URL.createObjectURL(new Blob([text], { type: response.headers.get('Content-Type') || 'text/plain' }));
    download.replaceChildren(h('a', { href: url, download: name, id: 'export-download' }, `Download ${name}`),
      h('span', { class: 'muted' }, ` (${text.length.toLocaleString()} characters)`));
  }));
  show(h('h1', {}, 'Export definitions'), h('section', { class: 'panel' }, form, download),
    h('section', { class: 'panel' }, h('h2', {}, 'Preview'), preview));
}

export async function importPage(instanceId) {
  const groups = await groupOptions(instanceId);
  const report = h('div', { id: 'import-report', 'aria-live': 'polite' });
  const commit = h('button', { type: 'button', disabled: true, id: 'import-commit' }, 'Import');
  const form = h('form', { class: 'inline', 'aria-label': 'Import definitions' },
    field('Swagger / OpenAPI file', h('input', { type: 'file', name: 'file_name', required: true, accept: '.json,.yaml,.yml' })),
    field('Into', select('target', [['new', 'a new group (the document’s title)'], ...groups.map(([id, name]) => [id, `group ${name}`])], 'new')),
    field('Existing APIs', select('api_mode', [['merge', 'merge (keep what the file lacks)'], ['override', 'override']], 'merge')),
    field('Group settings', select('extend_mode', [['merge', 'merge'], ['override', 'override']], 'merge')),
    h('button', { type: 'submit' }, 'Check (dry run)'));
  const body = () => {
    const data = new FormData();
    const v = values(form);
    data.set('is_create_group', String(v.target === 'new'));
    if (v.target !== 'new') data.set('group_id', v.target);
    data.set('api_mode', v.api_mode);
    data.set('extend_mode', v.extend_mode);
    data.set('file_name', form.elements.file_name.files[0]);
    return data;
  };
  const render = (result, dryRun) => {
    const rows = [...result.success.map(s => ({ ...s, outcome: s.action })),
      ...result.failure.map(f => ({ ...f, outcome: 'fail', reason: `${f.error_code}: ${f.error_msg}` })),
      ...result.ignore.map(i => ({ ...i, outcome: 'ignore' }))];
    report.replaceChildren(h('h2', {}, dryRun ? 'Dry run: nothing was written' : 'Imported'),
      h('p', {}, `${result.success.length} to ${dryRun ? 'apply' : 'applied'}, ${result.failure.length} failing, ${result.ignore.length} ignored.`,
        !dryRun && result.group_id ? [' ', h('a', { href: `#/i/${instanceId}/groups/${result.group_id}` }, 'Open the group')] : []),
      table([['Outcome', r => pill(r.outcome)], ['Method', r => r.method], ['Path', r => h('code', {}, r.path)],
        ['Reason', r => r.reason || '']], rows, { empty: 'The document has no operations.' }));
  };
  form.addEventListener('submit', event => attempt(async () => {
    event.preventDefault();
    commit.disabled = true;
    render(await call('POST', inst(instanceId, '/openapi/import'), { query: { dry_run: 'true' }, form: body() }), true);
    commit.disabled = false;
    commit.focus();
  }));
  form.addEventListener('change', () => { commit.disabled = true; });
  commit.addEventListener('click', () => attempt(async () => {
    commit.disabled = true;
    render(await call('POST', inst(instanceId, '/openapi/import'), { form: body() }), false);
    say('Import committed');
  }));
  show(h('h1', {}, 'Import definitions'),
    h('section', { class: 'panel' }, form, h('p', { class: 'muted' }, 'Check first: the dry run reports what each API would become, then Import commits it in one transaction.'), commit),
    h('section', { class: 'panel' }, report));
}

const side = value => value === 'draft' ? 'draft' : value;

export async function comparePage(instanceId) {
  const [groups, envs] = await Promise.all([groupOptions(instanceId), envOptions(instanceId)]);
  const sides = [['draft', 'Drafts (unpublished edits)'], ...envs];
  const result = h('div', { id: 'compare-result' });
  const form = h('form', { class: 'inline', 'aria-label': 'Compare definitions' },
    field('Group', select('group_id', groups, groups[0]?.[0])),
    field('From', select('from', sides, envs[0]?.[0])), field('To', select('to', sides, 'draft')),
    h('button', { type: 'submit' }, 'Compare'));
  form.addEventListener('submit', event => attempt(async () => {
    event.preventDefault();
    const v = values(form);
    if (!v.group_id) return say('Create a group first', true);
    const diff = await call('GET', inst(instanceId, `/api-groups/${v.group_id}/compare`), { query: { from: side(v.from), to: side(v.to) } });
    const s = diff.summary;
    const rows = diff.apis.flatMap(api => {
      const head = h('tr', { class: 'api' }, h('th', { scope: 'row' }, pill(api.status)),
        h('td', {}, h('a', { href: `#/i/${instanceId}/apis/${api.api_id}` }, api.name), ' ', h('code', {}, `${api.req_method} ${api.req_uri}`)),
        h('td', { class: 'old' }, api.status === 'added' ? '—' : api.status === 'same' ? 'same' : ''),
        h('td', { class: 'new' }, api.status === 'removed' ? '—' : api.status === 'same' ? 'same' : ''));
      const changes = api.changes.map(c => h('tr', {}, h('td', {}), h('td', {}, h('code', {}, c.path)),
        h('td', { class: 'old' }, h('code', {}, 'old' in c ? JSON.stringify(c.old) : '(absent)')),
        h('td', { class: 'new' }, h('code', {}, 'new' in c ? JSON.stringify(c.new) : '(absent)'))));
      return [head, ...changes];
    });
    result.replaceChildren(
      h('p', {}, pill('added'), ` ${s.added}  `, pill('removed'), ` ${s.removed}  `, pill('changed'), ` ${s.changed}  `, pill('same'), ` ${s.same}`),
      rows.length ? h('table', { class: 'diff' }, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Status'),
        h('th', { scope: 'col' }, 'API / field'), h('th', { scope: 'col' }, diff.from.name), h('th', { scope: 'col' }, diff.to.name))),
        h('tbody', {}, rows)) : h('p', { class: 'muted' }, 'Neither side has an API.'));
  }));
  show(h('h1', {}, 'Compare definitions'), h('section', { class: 'panel' }, form,
    h('p', { class: 'muted' }, 'A group’s definitions between two environments, or the drafts against what is published.')),
    h('section', { class: 'panel' }, result));
}
