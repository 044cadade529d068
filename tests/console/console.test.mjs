// The web console end to end: the real `portico serve` on a fresh data directory and loopback
// ports it binds itself (port 0, reported on stdout), driven in Debian's headless Chromium through playwright-core. One browser
// page walks the flow in order: log in, create an environment, a group and APIs,
// publish, export and read the download, import with a dry run then commit, compare.
// Screenshots of the main pages go to target/console-screenshots/.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const binary = process.env.PORTICO_BIN || join(root, 'target/debug/portico');
const shots = join(root, 'target/console-screenshots');
const RELEASE = 'DEFAULT_ENVIRONMENT_RELEASE_ID';

/** The management address a server started on port 0 reports on stdout (docs/configuration.md). */
function managementAddress(server) {
  return new Promise((done, fail) => {
    let seen = '';
    const look = chunk => {
      seen += chunk;
      const found = /^listening management=(\S+) gateway=\S+$/m.exec(seen);
      if (found) {
        server.stdout.off('data', look);
        done(found[1]);
      }
    };
    server.stdout.on('data', look);
    server.once('exit', code => fail(new Error(`portico serve exited with ${code} before reporting its ports`)));
  });
}

async function waitForHealth(base, server) {
  for (let i = 0; i < 300; i++) {
    if (server.exitCode !== null) throw new Error(`portico serve exited with ${server.exitCode}`);
    try { if ((await fetch(`${base}/health`)).ok) return; } catch { /* not listening yet */ }
    await new Promise(r => setTimeout(r, 100));
  }
  throw new Error('portico serve did not answer /health within 30 s');
}

/** The `key = "value"` lines of credentials.toml. */
function credentials(dataDir) {
  const text = readFileSync(join(dataDir, 'credentials.toml'), 'utf8');
  return Object.fromEntries([...text.matchAll(/^(\w+)\s*=\s*"([^"]*)"/gm)].map(m => [m[1], m[2]]));
}

describe('web console', () => {
  let dataDir, server, browser, context, page, base, creds, token, apiRoot, consoleSession, instance, groupId;
  const serverLog = [];

  const shot = name => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  const heading = () => page.getByRole('heading', { level: 1 });
  const form = name => page.getByRole('form', { name });
  /** The management API directly, to check what the console did. */
  const manage = async (path) => {
    const response = await fetch(`${base}${apiRoot}${path}`, { headers: { 'X-Auth-Token': token } });
    assert.equal(response.status, 200, `${path}: ${await response.clone().text()}`);
    return response.json();
  };
  const groupApis = async groupId => (await manage(`/apis?group_id=${groupId}&limit=500`)).apis;
  const groupIdFromUrl = () => /groups\/([0-9a-f]+)$/.exec(page.url())[1];
  /** Every test gets a page of its own, logged in once the login test has run, opened at
   * `hash` (when given): a test that fails midway leaves no dialog or half-filled form to the
   * next. The data the later tests work on (a group, its APIs) is made by the earlier ones. */
  const openPage = async hash => {
    await page?.close();
    page = await context.newPage();
    page.setDefaultTimeout(15000);
    page.on('pageerror', e => { throw e; });
    if (consoleSession) await page.addInitScript(s => sessionStorage.setItem('portico.session', s), consoleSession);
    if (hash !== undefined) {
      await page.goto(`${base}/console/${hash}`);
      await heading().waitFor();
    }
  };
  /** Whether the focused element shows it: an outline, or (the skip link) moved into view. */
  const focusShows = () => page.evaluate(() => {
    const e = document.activeElement;
    const style = getComputedStyle(e);
    const box = e.getBoundingClientRect();
    const outlined = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
    return { what: e.outerHTML.slice(0, 80), shows: outlined && box.right > 0 && box.bottom > 0 };
  });

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'portico-console-'));
    server = spawn(binary, ['serve', '--data-dir', dataDir, '--listen', '127.0.0.1:0',
      '--gateway-listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout.on('data', d => serverLog.push(d));
    server.stderr.on('data', d => serverLog.push(d));
    base = `http://${await managementAddress(server)}`;
    await waitForHealth(base, server);
    creds = credentials(dataDir);
    apiRoot = `/v2/${creds.project_id}/apigw/instances/${creds.instance_id}`;
    mkdirSync(shots, { recursive: true });
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    }); // playwright gives every launch a fresh, temporary profile (--user-data-dir)
    context = await browser.newContext({ viewport: { width: 1366, height: 768 }, acceptDownloads: true });
  });

  after(async () => {
    await browser?.close();
    server?.kill('SIGTERM');
    if (server && server.exitCode === null) await new Promise(r => server.once('exit', r));
    if (process.exitCode) process.stderr.write(Buffer.concat(serverLog));
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('every asset comes from the binary, under a strict content security policy', async () => {
    const response = await fetch(`${base}/console/`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-security-policy'), /script-src 'self'/);
    await openPage();
    const external = [];
    page.on('request', r => { if (!r.url().startsWith(base) && !r.url().startsWith('blob:')) external.push(r.url()); });
    await page.goto(`${base}/console`);
    await heading().waitFor();
    assert.equal(page.url(), `${base}/console/#/login`.replace('#/login', ''), 'the bare prefix redirects');
    assert.deepEqual(external, []);
  });

  test('a wrong password is refused, the right one logs in (keyboard only)', async () => {
    await openPage('#/login');
    await shot('01-login');
    const focused = () => page.evaluate(() => document.activeElement.getAttribute('name'));
    // The user name field has focus on arrival; the keys do the rest.
    assert.equal(await focused(), 'user');
    await page.keyboard.type(creds.admin_user);
    await page.keyboard.press('Tab');
    assert.equal(await focused(), 'password');
    await page.keyboard.type('not the password');
    await page.keyboard.press('Enter');
    await page.getByRole('status').filter({ hasText: 'wrong' }).waitFor();
    assert.equal(await focused(), 'password', 'a refused login leaves the focus in the password field');
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type(creds.admin_password);
    await page.keyboard.press('Enter');
    await heading().filter({ hasText: 'Instances' }).waitFor();
    consoleSession = await page.evaluate(() => sessionStorage.getItem('portico.session'));
    token = JSON.parse(consoleSession).token;
    assert.ok(token);
    await shot('02-instances');
    instance = creds.instance_id;
    await page.locator('main').getByRole('link').first().click();
    await heading().filter({ hasText: 'API groups' }).waitFor();
  });

  test('the skip link is the first stop from the top, and every focus stop shows', async () => {
    await openPage(`#/i/${instance}/groups`);
    // Each page puts the focus on <main>; going back from there reaches the header's controls
    // and, first in the document, the skip link.
    const stops = [];
    for (let i = 0; i < 20 && stops.at(-1)?.what.includes('class="skip"') !== true; i++) {
      await page.keyboard.press('Shift+Tab');
      stops.push(await focusShows());
    }
    assert.ok(stops.at(-1).what.includes('Skip to content'), `no skip link before main: ${JSON.stringify(stops)}`);
    assert.ok(stops.length > 1, 'the header has controls between the skip link and main');
    assert.deepEqual(stops.filter(s => !s.shows), [], 'a focused control without a visible focus');
    const before = page.url();
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'main', 'the skip link moves the focus to main');
    assert.equal(page.url(), before, 'the skip link stays on the page');
    await heading().filter({ hasText: 'API groups' }).waitFor();
    // Forward from main, through the page's own controls to the end of the page.
    const inMain = [];
    for (let i = 0; i < 60; i++) {
      await page.keyboard.press('Tab');
      if (!await page.evaluate(() => document.getElementById('main').contains(document.activeElement))) break;
      inMain.push(await focusShows());
    }
    assert.ok(inMain.length > 2, `the page's controls take the focus: ${JSON.stringify(inMain)}`);
    assert.deepEqual(inMain.filter(s => !s.shows), [], 'a focused control without a visible focus');
  });

  test('an environment, a group and two APIs are created', async () => {
    await openPage(`#/i/${instance}/groups`);
    await page.getByRole('link', { name: 'Environments' }).click();
    await form('Create an environment').getByLabel('Name').fill('staging');
    await form('Create an environment').getByRole('button', { name: 'Create environment' }).click();
    await page.getByRole('cell', { name: 'staging', exact: true }).waitFor();
    await shot('03-environments');

    await page.getByRole('link', { name: 'Groups & APIs' }).click();
    await form('Create a group').getByLabel('Name').fill('console_pets');
    await form('Create a group').getByRole('button').click();
    await heading().filter({ hasText: 'Group console_pets' }).waitFor();
    groupId = groupIdFromUrl();
    for (const [name, method, path] of [['list_pets', 'GET', '/pets'], ['add_pet', 'POST', '/pets']]) {
      const create = form('Create an API');
      await create.getByLabel('Name').fill(name);
      await create.getByLabel('Method').selectOption(method);
      await create.getByLabel('Path').fill(path);
      await create.getByRole('button', { name: 'Create API' }).click();
      await page.getByRole('link', { name, exact: true }).waitFor();
    }
    const apis = await groupApis(groupIdFromUrl());
    assert.deepEqual(apis.map(a => `${a.req_method} ${a.req_uri} ${a.backend_type}`).sort(), ['GET /pets MOCK', 'POST /pets MOCK']);
  });

  test('search filters the group’s APIs', async () => {
    await openPage(`#/i/${instance}/groups/${groupId}`);
    const search = page.getByRole('search', { name: 'Search APIs' });
    await search.getByLabel('Method').selectOption('POST');
    await search.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'list_pets' }).waitFor({ state: 'detached' });
    assert.equal(await page.getByRole('link', { name: 'add_pet' }).count(), 1);
    await search.getByLabel('Method').selectOption('');
    await search.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'list_pets' }).waitFor();
  });

  test('batch publishing asks first, then publishes the selection', async () => {
    await openPage(`#/i/${instance}/groups/${groupId}`);
    await page.getByLabel('Select list_pets').check();
    await page.getByLabel('Select add_pet').check();
    await page.getByRole('group', { name: 'Batch actions' }).getByLabel('Environment').selectOption({ label: 'RELEASE' });
    await page.getByRole('button', { name: 'Publish selected' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('Publish 2 API(s)?').waitFor();
    assert.equal(await dialog.getByRole('button', { name: 'Publish' }).evaluate(b => b === document.activeElement), true,
      'the dialog takes the focus');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.ok((await groupApis(groupId)).every(a => !a.run_env_id), 'Escape publishes nothing');

    await page.getByRole('button', { name: 'Publish selected' }).click();
    await dialog.getByRole('button', { name: 'Publish' }).click();
    await page.getByRole('status').filter({ hasText: '2 done, 0 failed' }).waitFor();
    await page.locator('main tbody').getByText('RELEASE', { exact: true }).first().waitFor();
    assert.ok((await groupApis(groupId)).every(a => a.run_env_id === RELEASE));
    await shot('04-group-apis');
  });

  test('an API’s details show where it is published, and it is published singly in staging', async () => {
    await openPage(`#/i/${instance}/groups/${groupId}`);
    await page.getByRole('link', { name: 'list_pets' }).click();
    await heading().filter({ hasText: 'API list_pets' }).waitFor();
    await page.getByRole('heading', { name: 'Frontend' }).waitFor();
    await page.getByRole('heading', { name: 'Backend (MOCK)' }).waitFor();
    await page.getByRole('cell', { name: 'RELEASE' }).waitFor();
    await page.getByLabel('Environment').selectOption({ label: 'staging' });
    await page.getByRole('button', { name: 'Publish', exact: true }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Publish' }).click();
    await page.getByRole('cell', { name: 'staging' }).waitFor();
    await shot('05-api-details');
    const apiId = /apis\/([0-9a-f]+)$/.exec(page.url())[1];
    const details = await manage(`/apis/${apiId}`);
    assert.deepEqual(details.run_env_name.split('|').sort(), ['RELEASE', 'staging']);
  });

  test('apps and policies have their tabs', async () => {
    await openPage(`#/i/${instance}/groups`);
    await page.getByRole('link', { name: 'Apps & policies' }).click();
    await page.getByRole('tab', { name: 'Apps' }).waitFor();
    await page.getByRole('tab', { name: 'Apps' }).press('ArrowRight');
    await page.getByRole('tab', { name: 'Throttles', selected: true }).waitFor();
    await page.getByText('No throttles in this instance.').waitFor();
    for (const tab of ['ACLs', 'Authorizers', 'VPC channels']) {
      await page.getByRole('tab', { name: tab }).click();
      await page.getByText(`No ${tab === 'Authorizers' ? 'authorizers' : tab} in this instance.`).waitFor();
    }
    await shot('06-policies');
  });

  let exported;
  test('export previews the document and downloads the same file', async () => {
    await openPage(`#/i/${instance}/groups`);
    await page.getByRole('link', { name: 'Export' }).click();
    const exporting = form('Export definitions');
    await exporting.getByLabel('Group').selectOption({ label: 'console_pets' });
    await exporting.getByLabel('Environment').selectOption({ label: 'RELEASE' });
    await exporting.getByLabel('Definition level').selectOption('all');
    await exporting.getByLabel('OpenAPI version').selectOption('2.0');
    await exporting.getByRole('button', { name: 'Export' }).click();
    const preview = page.getByLabel('Exported document');
    await preview.filter({ hasText: '"swagger"' }).waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#export-download').click()]);
    assert.match(download.suggestedFilename(), /^console_pets-RELEASE-all-.*\.json$/);
    const file = readFileSync(await download.path(), 'utf8');
    assert.equal(file, await preview.textContent(), 'the download is what the preview shows');
    exported = JSON.parse(file);
    assert.equal(exported.swagger, '2.0');
    assert.deepEqual(Object.keys(exported.paths['/pets']).sort(), ['get', 'post']);
    assert.ok(exported.paths['/pets'].get['x-apigateway-backend'], 'the backend is exported at level all');
    await shot('07-export');
  });

  test('import reports a dry run per API, writes nothing, then commits', async () => {
    await openPage(`#/i/${instance}/groups`);
    const document = structuredClone(exported);
    document.paths['/pets'].get.description = 'changed by the import';
    document.paths['/owners'] = { get: structuredClone(exported.paths['/pets'].get) };
    document.paths['/owners'].get.operationId = 'list_owners';
    document.paths['/broken'] = { get: { ...structuredClone(exported.paths['/pets'].get), operationId: 'broken',
      'x-apigateway-backend': { type: 'NO_SUCH_BACKEND' } } };
    const file = join(dataDir, 'import.json');
    writeFileSync(file, JSON.stringify(document));

    await page.getByRole('link', { name: 'Import' }).click();
    const importing = form('Import definitions');
    await importing.getByLabel('Swagger / OpenAPI file').setInputFiles(file);
    await importing.getByLabel('Into').selectOption({ label: 'group console_pets' });
    await importing.getByLabel('Existing APIs').selectOption('override');
    assert.ok(await page.getByRole('button', { name: 'Import', exact: true }).isDisabled(), 'no commit before a dry run');
    await importing.getByRole('button', { name: 'Check (dry run)' }).click();
    const report = page.locator('#import-report');
    await report.getByText('Dry run: nothing was written').waitFor();
    const outcome = async path => (await report.getByRole('row').filter({ hasText: path }).first().textContent());
    assert.match(await outcome('/owners'), /^create/);
    assert.match(await outcome('/broken'), /^fail.*APIG\.\d{4}/);
    assert.match(await report.getByRole('row').filter({ hasText: 'GET' }).filter({ hasText: /\/pets$/ }).textContent(), /^update/);
    await shot('08-import-dry-run');
    assert.equal((await groupApis(groupId)).length, 2, 'a dry run writes nothing');

    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await report.getByText('Imported').first().waitFor();
    const apis = await groupApis(groupId);
    assert.deepEqual(apis.map(a => `${a.req_method} ${a.req_uri}`).sort(), ['GET /owners', 'GET /pets', 'POST /pets']);
    assert.equal(apis.find(a => a.req_uri === '/pets' && a.req_method === 'GET').remark, 'changed by the import');
    await shot('09-import-committed');
  });

  test('compare shows two environments, and drafts against RELEASE, side by side', async () => {
    await openPage(`#/i/${instance}/groups`);
    await page.getByRole('link', { name: 'Compare' }).click();
    const comparing = form('Compare definitions');
    await comparing.getByLabel('Group').selectOption({ label: 'console_pets' });
    await comparing.getByLabel('From').selectOption({ label: 'RELEASE' });
    await comparing.getByLabel('To').selectOption({ label: 'staging' });
    await comparing.getByRole('button', { name: 'Compare' }).click();
    const result = page.locator('#compare-result');
    await result.getByRole('columnheader', { name: 'staging' }).waitFor();
    const row = path => result.getByRole('row').filter({ hasText: path });
    assert.match(await row('GET /pets').textContent(), /^same/);
    assert.match(await row('POST /pets').textContent(), /^removed/);

    await comparing.getByLabel('To').selectOption('draft');
    await comparing.getByRole('button', { name: 'Compare' }).click();
    await result.getByRole('columnheader', { name: 'draft' }).waitFor();
    assert.match(await row('GET /owners').textContent(), /^added/);
    assert.match(await row('GET /pets').textContent(), /^changed/);
    const remark = result.getByRole('row').filter({ hasText: '/remark' });
    assert.match(await remark.textContent(), /\(absent\).*"changed by the import"/);
    await shot('10-compare');
  });
});
