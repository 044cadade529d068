// Browsing and publishing: instances, groups and their APIs, an API's details, environments
// and variables, apps and policies.
import { all, call, inst, session } from './api.js';
import { h, show, say, attempt, table, kv, field, select, pill, confirmDialog, values } from './ui.js';

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'ANY'];
const link = (href, text) => h('a', { href }, text);
const code = text => h('code', {}, text);
const crumbs = (...parts) => h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, parts.flatMap((p, i) => i ? [' › ', p] : [p]));

export async function envOptions(instanceId) {
  const envs = await all(inst(instanceId, '/envs'), 'envs');
  return envs.map(e => [e.id, e.name]);
}

export async function instances() {
  const s = session();
  const list = await all(`/v2/${s.project_id}/apigw/instances`, 'instances');
  show(h('h1', {}, 'Instances'), h('section', { class: 'panel' }, table([
    ['Name', i => link(`#/i/${i.id}/groups`, i.instance_name)],
    ['Id', i => code(i.id)], ['Status', i => i.status], ['Description', i => i.description || ''],
  ], list, { empty: 'No instance in this project.' })));
}

export async function groups(instanceId) {
  const list = await all(inst(instanceId, '/api-groups'), 'groups');
  const form = h('form', { class: 'inline', 'aria-label': 'Create a group' },
    field('Name', h('input', { name: 'name', required: true, pattern: '[A-Za-z\\u4e00-\\u9fa5][\\w\\u4e00-\\u9fa5]{2,63}' })),
    field('Description', h('input', { name: 'remark' })),
    h('button', { type: 'submit' }, 'Create group'));
  form.addEventListener('submit', event => attempt(async () => {
    event.preventDefault();
    const { name, remark } = values(form);
    const group = await call('POST', inst(instanceId, '/api-groups'), { body: { name, remark: remark || undefined } });
    say(`Group ${group.name} created`);
    location.hash = `#/i/${instanceId}/groups/${group.id}`;
  }));
  show(crumbs(link('#/instances', 'Instances'), instanceId), h('h1', {}, 'API groups'),
    h('section', { class: 'panel' }, h('h2', {}, 'New group'), form),
    h('section', { class: 'panel' }, table([
      ['Name', g => link(`#/i/${instanceId}/groups/${g.id}`, g.name)],
      ['Id', g => code(g.id)], ['Domain', g => code(g.sl_domain)], ['Description', g => g.remark || ''],
      ['Updated', g => g.update_time],
    ], list, { empty: 'No group yet: create one above, or import a document.' })));
}

export async function groupApis(instanceId, groupId) {
  const [group, envs] = await Promise.all([call('GET', inst(instanceId, `/api-groups/${groupId}`)), envOptions(instanceId)]);
  const filters = h('form', { class: 'inline', role: 'search', 'aria-label': 'Search APIs' },
    field('Name contains', h('input', { name: 'name', type: 'search' })),
    field('Path contains', h('input', { name: 'req_uri', type: 'search' })),
    field('Method', select('req_method', [['', 'any'], ...METHODS.map(m => [m, m])], '')),
    field('Authentication', select('auth_type', [['', 'any'], ['NONE', 'NONE'], ['APP', 'APP'], ['IAM', 'IAM'], ['AUTHORIZER', 'AUTHORIZER']], '')),
    field('Published in', select('env_id', [['', 'anywhere or nowhere'], ...envs], '')),
    h('button', { type: 'submit' }, 'Search'));
  const results = h('div', {});
  const batchEnv = select('env_id', envs, envs[0]?.[0]);
  const selected = () => [...results.querySelectorAll('input[name=pick]:checked')].map(c => c.value);
  const batch = action => attempt(async () => {
    const apis = selected();
    if (!apis.length) return say('Select APIs first', true);
    const envName = batchEnv.selectedOptions[0].textContent;
    const verb = action === 'online' ? 'Publish' : 'Take offline';
    if (!await confirmDialog(`${verb} ${apis.length} API(s)?`, `${verb} the selected APIs in ${envName}.`, verb)) return;
    const result = await call('POST', inst(instanceId, '/apis/publish'), { query: { action },
      body: { env_id: batchEnv.value, apis, remark: 'console' } });
    say(`${result.success.length} done, ${result.failure.length} failed` +
      (result.failure.length ? `: ${result.failure.map(f => f.error_msg).join('; ')}` : ''), result.failure.length > 0);
    await load();
  });
  async function load() {
    const query = { group_id: groupId, ...Object.fromEntries(Object.entries(values(filters)).filter(([, v]) => v)) };
    const apis = await all(inst(instanceId, '/apis'), 'apis', query);
    results.replaceChildren(table([
      ['', a => h('input', { type: 'checkbox', name: 'pick', value: a.id, 'aria-label': `Select ${a.name}` })],
      ['Name', a => link(`#/i/${instanceId}/apis/${a.id}`, a.name)],
      ['Method', a => a.req_method], ['Path', a => code(a.req_uri)], ['Auth', a => a.auth_type],
      ['Backend', a => a.backend_type],
      ['Published in', a => a.run_env_name ? a.run_env_name.split('|').map(n => pill(n)) : h('span', { class: 'muted' }, 'not published')],
    ], apis, { empty: 'No API matches.' }));
  }
  filters.addEventListener('submit', event => { event.preventDefault(); attempt(load); });

  const create = h('form', { class: 'inline', 'aria-label': 'Create an API' },
    field('Name', h('input', { name: 'name', required: true })),
    field('Method', select('req_method', METHODS.map(m => [m, m]), 'GET')),
    field('Path', h('input', { name: 'req_uri', required: true, placeholder: '/pets/{id}' })),
    field('Authentication', select('auth_type', [['NONE', 'NONE'], ['APP', 'APP'], ['IAM', 'IAM']], 'NONE')),
    field('Mock response', h('input', { name: 'result_content', value: '{"ok":true}' })),
    h('button', { type: 'submit' }, 'Create API'));
  create.addEventListener('submit', event => attempt(async () => {
    event.preventDefault();
    const v = values(create);
    const api = await call('POST', inst(instanceId, '/apis'), { body: {
      group_id: groupId, name: v.name, type: 1, req_protocol: 'HTTPS', req_method: v.req_method, req_uri: v.req_uri,
      auth_type: v.auth_type, backend_type: 'MOCK', mock_info: { result_content: v.result_content } } });
    say(`API ${api.name} created`);
    create.reset();
    await load();
  }));

  show(crumbs(link(`#/i/${instanceId}/groups`, 'Groups'), group.name), h('h1', {}, `Group ${group.name}`),
    h('section', { class: 'panel' }, kv([['Id', group.id], ['Domain', group.sl_domain], ['Description', group.remark]])),
    h('section', { class: 'panel' }, h('h2', {}, 'New API (mock backend)'), create),
    h('section', { class: 'panel' }, h('h2', {}, 'APIs'), filters,
      h('div', { class: 'toolbar', role: 'group', 'aria-label': 'Batch actions' },
        field('Environment', batchEnv),
        h('button', { type: 'button', onclick: () => batch('online') }, 'Publish selected'),
        h('button', { type: 'button', class: 'danger', onclick: () => batch('offline') }, 'Take selected offline')),
      results),
    await variablesPanel(instanceId, groupId, envs));
  await load();
}

async function variablesPanel(instanceId, groupId, envs) {
  const list = h('div', {});
  const load = async () => {
    const vars = await all(inst(instanceId, '/env-variables'), 'variables', { group_id: groupId });
    const envName = id => envs.find(([e]) => e === id)?.[1] || id;
    list.replaceChildren(table([['Environment', v => envName(v.env_id)], ['Name', v => code(v.variable_name)],
      ['Value', v => code(v.variable_value)]], vars, { empty: 'No variable in this group.' }));
  };
  const form = h('form', { class: 'inline', 'aria-label': 'Create a variable' },
    field('Environment', select('env_id', envs, envs[0]?.[0])),
    field('Name', h('input', { name: 'variable_name', required: true })),
    field('Value', h('input', { name: 'variable_value', required: true })),
    h('button', { type: 'submit' }, 'Add variable'));
  form.addEventListener('submit', event => attempt(async () => {
    event.preventDefault();
    await call('POST', inst(instanceId, '/env-variables'), { body: { group_id: groupId, ...values(form) } });
    form.reset();
    await load();
  }));
  await load();
  return h('section', { class: 'panel' }, h('h2', {}, 'Environment variables'), form, list);
}

export async function apiDetails(instanceId, apiId) {
  const [api, versions, envs] = await Promise.all([call('GET', inst(instanceId, `/apis/${apiId}`)),
    call('GET', inst(instanceId, `/apis/publish/${apiId}`), { query: { limit: 500 } }), envOptions(instanceId)]);
  const live = versions.api_versions.filter(v => v.status === 1);
  const envSelect = select('env_id', envs, envs[0]?.[0]);
  const act = action => attempt(async () => {
    const envName = envSelect.selectedOptions[0].textContent;
    const verb = action === 'online' ? 'Publish' : 'Take offline';
    if (!await confirmDialog(`${verb} ${api.name}?`, `${verb} this API in ${envName}. Callers see the change at once.`, verb)) return;
    await call('POST', inst(instanceId, '/apis/action'), { body: { action, env_id: envSelect.value, api_id: apiId, remark: 'console' } });
    say(`${api.name}: ${action === 'online' ? 'published in' : 'taken offline from'} ${envName}`);
    await apiDetails(instanceId, apiId);
  });
  const backend = api.backend_type === 'HTTP' ? api.backend_api : api.backend_type === 'MOCK' ? api.mock_info : api.func_info;
  const policies = [...(api.policy_https || []), ...(api.policy_mocks || []), ...(api.policy_functions || [])];
  show(crumbs(link(`#/i/${instanceId}/groups`, 'Groups'), link(`#/i/${instanceId}/groups/${api.group_id}`, api.group_name), api.name),
    h('h1', {}, `API ${api.name}`),
    h('section', { class: 'panel' }, h('h2', {}, 'Publication'),
      table([['Environment', v => v.env_name], ['Version', v => `${v.version_no}`], ['Version id', v => code(v.version_id)],
        ['Published', v => v.publish_time], ['Remark', v => v.remark || '']], live, { empty: 'Not published anywhere.' }),
      h('div', { class: 'toolbar' }, field('Environment', envSelect),
        h('button', { type: 'button', onclick: () => act('online') }, 'Publish'),
        h('button', { type: 'button', class: 'danger', onclick: () => act('offline') }, 'Take offline'))),
    h('div', { class: 'grid2' },
      h('section', { class: 'panel' }, h('h2', {}, 'Frontend'), kv([['Id', api.id], ['Method', api.req_method],
        ['Path', api.req_uri], ['Protocol', api.req_protocol], ['Match', api.match_mode], ['Authentication', api.auth_type],
        ['CORS', api.cors], ['Tags', (api.tags || []).join(', ')], ['Description', api.remark], ['Updated', api.update_time]])),
      h('section', { class: 'panel' }, h('h2', {}, `Backend (${api.backend_type})`),
        kv(Object.entries(backend || {}).filter(([k, v]) => typeof v !== 'object' && k !== 'id').map(([k, v]) => [k, v])))),
    h('section', { class: 'panel' }, h('h2', {}, 'Request parameters'), table([['Name', p => code(p.name)],
      ['Location', p => p.location], ['Type', p => p.type], ['Required', p => p.required === 1 ? 'yes' : 'no'],
      ['Default', p => p.default_value || ''], ['Description', p => p.remark || '']], api.req_params || [], { empty: 'No parameters.' })),
    h('section', { class: 'panel' }, h('h2', {}, 'Backend parameters'), table([['Name', p => code(p.name)],
      ['Location', p => p.location], ['Origin', p => p.origin], ['Value', p => code(p.value)]], api.backend_params || [],
      { empty: 'No backend parameters.' })),
    h('section', { class: 'panel' }, h('h2', {}, 'Backend policies'), table([['Name', p => p.name],
      ['Effect', p => p.effect_mode], ['Conditions', p => (p.conditions || []).map(c => `${c.condition_origin} ${c.req_param_name || ''} ${c.condition_type || ''} ${c.condition_value}`).join('; ')]],
      policies, { empty: 'No backend policies.' })));
}

export async function environments(instanceId) {
  const envs = await all(inst(instanceId, '/envs'), 'envs');
  const form = h('form', { class: 'inline', 'aria-label': 'Create an environment' },
    field('Name', h('input', { name: 'name', required: true })), field('Description', h('input', { name: 'remark' })),
    h('button', { type: 'submit' }, 'Create environment'));
  form.addEventListener('submit', event => attempt(async () => {
    event.preventDefault();
    const { name, remark } = values(form);
    await call('POST', inst(instanceId, '/envs'), { body: { name, remark: remark || undefined } });
    say(`Environment ${name} created`);
    await environments(instanceId);
  }));
  show(h('h1', {}, 'Environments'), h('section', { class: 'panel' }, h('h2', {}, 'New environment'), form),
    h('section', { class: 'panel' }, table([['Name', e => e.name], ['Id', e => code(e.id)],
      ['Description', e => e.remark || ''], ['Created', e => e.create_time]], envs)),
    h('p', { class: 'muted' }, 'Variables belong to a group and an environment: see them on each group’s page.'));
}

export async function policies(instanceId) {
  const tabs = [
    ['Apps', '/apps', 'apps', [['Name', a => a.name], ['Id', a => code(a.id)], ['Key', a => code(a.app_key)], ['Bound APIs', a => a.bind_num], ['Description', a => a.remark || '']]],
    ['Throttles', '/throttles', 'throttles', [['Name', t => t.name], ['API limit', t => `${t.api_call_limits} per ${t.time_interval} ${t.time_unit}`], ['User', t => t.user_call_limits], ['App', t => t.app_call_limits], ['IP', t => t.ip_call_limits], ['Bound APIs', t => t.bind_num]]],
    ['ACLs', '/acls', 'acls', [['Name', a => a.acl_name], ['Type', a => a.acl_type], ['Entity', a => a.entity_type], ['Value', a => code(a.acl_value)], ['Bound APIs', a => a.bind_num]]],
    ['Authorizers', '/authorizers', 'authorizer_list', [['Name', a => a.name], ['Type', a => a.type], ['Function', a => code(a.authorizer_uri)], ['TTL', a => a.ttl]]],
    ['VPC channels', '/vpc-channels', 'vpc_channels', [['Name', c => c.name], ['Id', c => code(c.id)], ['Port', c => c.port], ['Balance', c => c.balance_strategy], ['Members', c => c.member_type]]],
  ];
  const panel = h('div', { role: 'tabpanel', id: 'policy-panel' });
  const buttons = tabs.map(([title, path, key, columns], index) => h('button', {
    type: 'button', role: 'tab', id: `tab-${index}`, 'aria-controls': 'policy-panel', 'aria-selected': 'false',
    onclick: () => open(index),
    onkeydown: event => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (step) { const next = (index + step + tabs.length) % tabs.length; buttons[next].focus(); open(next); }
    },
  }, title));
  async function open(index) {
    buttons.forEach((b, i) => { b.setAttribute('aria-selected', String(i === index)); b.tabIndex = i === index ? 0 : -1; });
    panel.setAttribute('aria-labelledby', `tab-${index}`);
    const [title, path, key, columns] = tabs[index];
    const items = await attempt(() => all(inst(instanceId, path), key));
    const noun = /^[A-Z]{2}/.test(title) ? title : title.toLowerCase(); // ACLs, VPC channels keep their capitals
    panel.replaceChildren(table(columns, items || [], { empty: `No ${noun} in this instance.` }));
  }
  show(h('h1', {}, 'Apps & policies'), h('section', { class: 'panel' },
    h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Kinds of object' }, buttons), panel));
  await open(0);
}
