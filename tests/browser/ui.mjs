// sluis's reviewer pages end to end in a real browser: Debian's chromium driven by
// playwright-core. Started by crates/cli/tests/ui_browser.rs against `sluis demo` signed in at the
// test OpenID provider (tests/oidc/provider.mjs):
//
//   node ui.mjs --base http://127.0.0.1:ADMIN --bsn BSN --out DIR [--chromium /usr/bin/chromium]
//
// It signs in at the IdP as the privacy officer, finds the planted watch-list alert in the inbox,
// acknowledges it, searches the log by the person's BSN, prints the citizen's overview to PDF,
// opens the monthly report and checks the log's integrity; then checks that a security officer
// does not see identities and that an employee without a reviewer role is refused. Screenshots
// and the PDF go to DIR. Any failed expectation exits 1 with the step and what was seen.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

import { chromium } from 'playwright-core';

const { values: args } = parseArgs({
  options: {
    base: { type: 'string' },
    bsn: { type: 'string' },
    out: { type: 'string' },
    chromium: { type: 'string', default: process.env.CHROMIUM ?? '/usr/bin/chromium' },
  },
  strict: true,
});
for (const k of ['base', 'bsn', 'out']) {
  if (!args[k]) {
    console.error(`ui.mjs: --${k} is required`);
    process.exit(2);
  }
}
const base = args.base.replace(/\/$/, '');
fs.mkdirSync(args.out, { recursive: true });

let step = 'start';
function expect(cond, what) {
  if (!cond) throw new Error(`${step}: ${what}`);
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(args.out, `${name}.png`), fullPage: true });
}

// Every visible form control has a label (the pages' accessibility floor).
async function labelled(page) {
  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
      .filter((el) => el.labels === null || el.labels.length === 0)
      .map((el) => el.name || el.id || el.tagName),
  );
  expect(unlabelled.length === 0, `controls without a label: ${unlabelled.join(', ')}`);
}

// Signs in at the IdP's login form (oidc-provider's development interaction) and consents.
async function signIn(page, login, next = '/ui/') {
  await page.goto(`${base}${next}`);
  await page.waitForSelector('input[name="login"]', { timeout: 15000 });
  expect(!page.url().startsWith(base), `not at the IdP's login page but at ${page.url()}`);
  await page.fill('input[name="login"]', login);
  await page.fill('input[name="password"]', 'any-password');
  await page.click('button[type="submit"]');
  // Consent, when the provider asks for it.
  for (let i = 0; i < 3 && !page.url().startsWith(base); i++) {
    const button = page.locator('button[type="submit"]');
    if ((await button.count()) > 0) {
      await Promise.all([page.waitForLoadState('load'), button.first().click()]);
    } else {
      await page.waitForTimeout(200);
    }
  }
  await page.waitForURL((u) => u.toString().startsWith(base), { timeout: 15000 });
}

const browser = await chromium.launch({
  executablePath: args.chromium,
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
try {
  // ---- the privacy officer ----
  const fg = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'nl-NL' });
  const page = await fg.newPage();
  step = 'sign in as the privacy officer';
  await signIn(page, 'fg-anna');
  expect(page.url() === `${base}/ui/`, `after sign-in at ${page.url()}`);
  expect((await page.textContent('h1')) === 'Overzicht', 'the home page heading');
  expect((await page.textContent('.afmelden')).includes('fg-anna'), 'the signed-in name');
  await shot(page, '01-overzicht');

  step = 'the alert inbox';
  await page.click('nav >> text=Meldingen');
  await page.waitForURL(`${base}/ui/meldingen`);
  const d5 = page.locator('a', { hasText: 'D5 persoon op een bewaaklijst' });
  // The planted lookup's alert is raised within seconds; the inbox is reloaded until it is there.
  for (let i = 0; i < 20 && (await d5.count()) === 0; i++) {
    await page.waitForTimeout(500);
    await page.reload();
  }
  expect((await d5.count()) === 1, 'one D5 watch-list alert in the inbox');
  await labelled(page);
  await shot(page, '02-meldingen');

  step = 'the alert, with identities';
  await d5.click();
  await page.waitForSelector('#h-bewijs');
  const evidence = await page.textContent('main');
  expect(evidence.includes('mdw-nieuwsgierig'), 'the FG sees who looked the person up');
  expect(!evidence.includes(args.bsn), 'the BSN itself is nowhere on the alert page');
  await labelled(page);

  step = 'dismissing needs a reason';
  await page.check('#h-dis');
  await page.click('form.afhandeling button[type="submit"]');
  await page.waitForSelector('.melding.fout');
  expect((await page.textContent('.melding.fout')).includes('toelichting'), 'the reason is asked for');

  step = 'acknowledge the alert';
  await page.check('#h-ack');
  await page.fill('#reden', 'Navragen bij de leidinggevende');
  await page.click('form.afhandeling button[type="submit"]');
  await page.waitForSelector('text=in behandeling genomen');
  const handled = await page.textContent('main');
  expect(handled.includes('fg-anna'), 'the handling names who did it');
  expect(handled.includes('Navragen bij de leidinggevende'), 'the handling keeps the reason');
  await shot(page, '03-melding-in-behandeling');

  step = 'search the log by subject';
  await page.click('nav >> text=Zoeken in het logboek');
  await page.fill('#bsn', args.bsn);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#h-resultaat');
  expect(!page.url().includes(args.bsn), 'the BSN is not in the address bar');
  const rows = await page.locator('#h-resultaat ~ table tbody tr, section table tbody tr').count();
  expect(rows >= 1, `processing records of the subject: ${rows}`);
  expect((await page.textContent('table')).includes('mdw-nieuwsgierig'), 'the user of the lookup');
  await labelled(page);
  await shot(page, '04-zoeken-op-betrokkene');

  step = 'an invalid BSN is refused without being repeated';
  await page.fill('#bsn', '123456789');
  await page.keyboard.press('Enter');
  await page.waitForSelector('.melding.fout');
  expect(!(await page.content()).includes('123456789'), 'the invalid BSN is not echoed');

  step = 'search by user';
  await page.fill('#bsn', '');
  await page.fill('#gebruiker', 'mdw-nieuwsgierig');
  await page.click('form.zoekformulier button[type="submit"]');
  await page.waitForSelector('#h-resultaat');
  expect((await page.textContent('[role="status"]')).includes('gevonden'), 'requests of the user');

  step = "the citizen's overview, printed to PDF";
  await page.click('nav >> text=Inzageverzoek');
  await page.fill('#bsn', args.bsn);
  await page.click('main button[type="submit"]');
  await page.waitForSelector('h1');
  expect(
    (await page.textContent('h1')).includes('Overzicht van het gebruik van uw persoonsgegevens'),
    'the overview letter',
  );
  const letter = await page.textContent('body');
  expect(letter.includes('Behandelen aanvraag bijstandsuitkering'), 'the activity by its name');
  expect(!letter.includes(args.bsn), 'the letter shows the BSN masked only');
  await shot(page, '05-inzage-overzicht');
  const pdf = path.join(args.out, 'overzicht.pdf');
  await page.emulateMedia({ media: 'print' });
  await page.pdf({ path: pdf, format: 'A4', printBackground: false });
  const head = fs.readFileSync(pdf).subarray(0, 5).toString();
  expect(head === '%PDF-', `the PDF starts with ${JSON.stringify(head)}`);
  await page.emulateMedia({ media: 'screen' });

  step = 'the monthly report';
  const month = new Date().toISOString().slice(0, 7);
  await page.goto(`${base}/ui/rapport?maand=${month}`);
  expect((await page.textContent('h1')).includes(month), 'the report of this month');
  expect((await page.locator('svg').count()) >= 5, 'the charts');
  const report = await page.textContent('main');
  expect(!report.includes('mdw-nieuwsgierig'), 'the report names no user');
  await labelled(page);
  await shot(page, '06-maandrapport');

  step = 'integrity';
  await page.click('nav >> text=Integriteit');
  await page.click('main button[type="submit"]');
  await page.waitForSelector('strong.goed');
  expect((await page.textContent('strong.goed')).includes('intact'), 'the log verifies');
  await shot(page, '07-integriteit');

  step = 'keyboard: the skip link leads to the content';
  await page.keyboard.press('Tab');
  expect(
    (await page.evaluate(() => document.activeElement?.textContent ?? '')) === 'Naar de inhoud',
    'the first tab stop is the skip link',
  );

  step = 'sign out';
  await page.click('.afmelden button');
  await page.waitForURL(`${base}/ui/afgemeld`);
  const after = await page.request.get(`${base}/ui/meldingen`, { maxRedirects: 0 });
  expect(
    after.status() === 303 && (after.headers().location ?? '').startsWith('/ui/aanmelden'),
    `signed out: the inbox asks to sign in (got ${after.status()})`,
  );
  await fg.close();

  // ---- a security officer: the pages, but no identities ----
  step = 'a security officer sees no identities';
  const sec = await browser.newContext({ locale: 'nl-NL' });
  const p2 = await sec.newPage();
  await signIn(p2, 'security-sam', '/ui/meldingen?status=alle');
  await p2.click('a:has-text("D5 persoon op een bewaaklijst")');
  await p2.waitForSelector('#h-afhandeling');
  const seen = await p2.textContent('main');
  expect(!seen.includes('mdw-nieuwsgierig'), 'the security officer does not see the user');
  expect((await p2.locator('#h-bewijs').count()) === 0, 'no evidence section');
  await shot(p2, '08-security-officer');
  await sec.close();

  // ---- an employee without a reviewer role ----
  step = 'an employee is refused';
  const emp = await browser.newContext({ locale: 'nl-NL' });
  const p3 = await emp.newPage();
  await signIn(p3, 'medewerker-piet');
  expect((await p3.textContent('h1')) === 'Geen toegang', `refused: ${await p3.textContent('h1')}`);
  await shot(p3, '09-geen-toegang');
  await emp.close();

  console.log(JSON.stringify({ ok: true, artifacts: args.out }));
} catch (err) {
  console.error(`ui.mjs: ${err.message.startsWith(step) ? '' : `${step}: `}${err.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
