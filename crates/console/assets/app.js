// The console's entry: hash routes → pages. Every page is a function of its route parameters
// that fetches from the management API and renders with ui.js.
import { login, logout, session } from './api.js';
import { h, show, say } from './ui.js';
import * as pages from './pages.js';
import * as transfer from './transfer.js';

const routes = [
  [/^#\/instances$/, () => pages.instances()],
  [/^#\/i\/([^/]+)\/groups$/, i => pages.groups(i)],
  [/^#\/i\/([^/]+)\/groups\/([^/]+)$/, (i, g) => pages.groupApis(i, g)],
  [/^#\/i\/([^/]+)\/apis\/([^/]+)$/, (i, a) => pages.apiDetails(i, a)],
  [/^#\/i\/([^/]+)\/envs$/, i => pages.environments(i)],
  [/^#\/i\/([^/]+)\/policies$/, i => pages.policies(i)],
  [/^#\/i\/([^/]+)\/export$/, i => transfer.exportPage(i)],
  [/^#\/i\/([^/]+)\/import$/, i => transfer.importPage(i)],
  [/^#\/i\/([^/]+)\/compare$/, i => transfer.comparePage(i)],
];

const sections = [['groups', 'Groups & APIs'], ['envs', 'Environments'], ['policies', 'Apps & policies'],
  ['export', 'Export'], ['import', 'Import'], ['compare', 'Compare']];

function renderNav(instanceId) {
  const nav = document.getElementById('nav');
  const links = [h('a', { href: '#/instances' }, 'Instances')];
  if (instanceId) {
    for (const [path, title] of sections) links.push(h('a', { href: `#/i/${instanceId}/${path}` }, title));
  }
  nav.replaceChildren(...links);
  for (const a of nav.querySelectorAll('a')) {
    const here = location.hash.replace(/\/apis\/[^/]+$/, '/groups');
    if (here === a.getAttribute('href') || here.startsWith(a.getAttribute('href') + '/')) {
      a.setAttribute('aria-current', 'page');
    }
  }
  const s = session();
  document.getElementById('who').replaceChildren(...(s ? [`${s.user}`,
    h('button', { type: 'button', class: 'secondary', onclick: () => { logout(); location.hash = '#/login'; } }, 'Log out')] : []));
}

function loginPage() {
  renderNav(null);
  const form = h('form', { 'aria-labelledby': 'login-title' },
    h('label', {}, 'User name', h('input', { name: 'user', autocomplete: 'username', required: true })),
    h('label', {}, 'Password', h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
    h('button', { type: 'submit' }, 'Log in'));
  form.addEventListener('submit', async event => {
    event.preventDefault();
    const data = new FormData(form);
    try {
      await login(data.get('user'), data.get('password'));
      location.hash = '#/instances';
    } catch (e) { say(e.message, true); }
  });
  show(h('section', { class: 'panel login' }, h('h1', { id: 'login-title' }, 'Log in to Portico'),
    h('p', { class: 'muted' }, 'The user and password of the management API (credentials.toml on first start).'), form));
  form.querySelector('input').focus();
}

async function route() {
  const hash = location.hash || '#/instances';
  if (hash === '#/login' || !session()) return loginPage();
  for (const [pattern, page] of routes) {
    const match = hash.match(pattern);
    if (!match) continue;
    const params = match.slice(1).map(decodeURIComponent);
    renderNav(hash.startsWith('#/i/') ? params[0] : null);
    show(h('p', { class: 'muted' }, 'Loading…'));
    try { await page(...params); } catch (e) { show(h('h1', {}, 'Something went wrong'), h('p', { class: 'error' }, e.message)); }
    document.getElementById('main').focus();
    return;
  }
  location.hash = '#/instances';
}

window.addEventListener('hashchange', route);
// The skip link's own `#main` would be taken for a route (and lead to the instances page).
document.querySelector('.skip').addEventListener('click', event => {
  event.preventDefault();
  document.getElementById('main').focus();
});
route();
