// Browser tests: real headless Chromium (Debian's, driven by playwright-core) against the app
// served by spin-host with real PostgreSQL and Redis. Started by crates/e2e/tests/browser.rs,
// which sets BASE_URL and SCREENSHOT_DIR; every test saves a screenshot there.
//
// Scenarios check first that the API routes they drive are served (not 404/405), so that a
// missing backend route fails with its name rather than as a timeout somewhere in the UI.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const BASE_URL = process.env.BASE_URL;
const SCREENSHOT_DIR = process.env.SCREENSHOT_DIR ?? 'target/screenshots';
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
assert.ok(BASE_URL, 'BASE_URL must be set (crates/e2e/tests/browser.rs sets it)');
assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium chromium-driver`);
mkdirSync(SCREENSHOT_DIR, { recursive: true });

let browser;
before(async () => {
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
});
after(async () => {
  await browser?.close();
});

/** A fresh browser context (its own cookies), with console errors collected. */
async function newPage(viewport = { width: 1100, height: 800 }) {
  const context = await browser.newContext({ baseURL: BASE_URL, viewport, timezoneId: 'Europe/Paris', locale: 'en-GB' });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  page.on('console', (msg) => {
    // A 4xx the test provokes on purpose is logged by Chromium as a failed resource; CSP
    // violations and script errors are what this catches.
    if (msg.type() === 'error' && !/status of 4\d\d/.test(msg.text())) errors.push(msg.text());
  });
  return { context, page, errors };
}

async function shot(page, name) {
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

let accounts = 0;
async function register(page) {
  const email = `user${Date.now()}_${accounts++}@example.com`;
  await page.goto('/register');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: 'Tasks' }).waitFor();
  return email;
}

/** A control of the open dialog by its exact label (the filter bar has look-alikes). */
function inForm(page, label) {
  return page.getByRole('dialog').getByLabel(label, typeof label === 'string' ? { exact: true } : {});
}

/** Fails the test unless `path` is served by the API (a 404 or 405 means no handler). */
async function requireRoute(page, method, path) {
  assert.ok(await routeExists(page, method, path), `${method} ${path} is not served by the API`);
}

/** Whether `path` is served by the API (a 404 or 405 means no handler for it). */
async function routeExists(page, method, path) {
  const status = await page.evaluate(
    async ([m, p]) =>
      (
        await fetch(p, {
          method: m,
          headers: { 'X-Requested-With': 'XMLHttpRequest', 'Content-Type': 'application/json' },
          body: m === 'GET' ? undefined : '{}',
        })
      ).status,
    [method, path],
  );
  return status !== 404 && status !== 405;
}

/** A datetime-local value `ms` from now in Europe/Paris (the contexts' and accounts' zone). */
function parisLocal(ms, withSeconds = false) {
  const text = new Intl.DateTimeFormat('sv-SE', {
    timeZone: 'Europe/Paris',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  })
    .format(new Date(Date.now() + ms))
    .replace(' ', 'T');
  return withSeconds ? text : text.slice(0, 16);
}

describe('web UI', () => {
  test('registers, survives a reload, logs out and back in', async () => {
    const { context, page, errors } = await newPage();
    const email = await register(page);
    await page.reload();
    await page.getByRole('heading', { name: 'Tasks' }).waitFor();
    assert.ok(await page.getByText(email).isVisible(), 'the header names the signed-in user after a reload');
    await shot(page, 'registered');
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    await page.reload();
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Tasks' }).waitFor();
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a field error shows beside its field and keeps what was typed', async () => {
    const { context, page } = await newPage();
    await page.goto('/register');
    await page.getByLabel('Email').fill('not-an-email');
    await page.getByLabel('Password').fill('short');
    await page.getByRole('button', { name: 'Create account' }).click();
    const emailError = page.locator('.field', { has: page.getByLabel('Email') }).locator('.field-error');
    await emailError.waitFor();
    const passwordError = page.locator('.field', { has: page.getByLabel('Password') }).locator('.field-error');
    await passwordError.waitFor();
    // Each message is tied to its input for screen readers.
    const describedBy = await page.getByLabel('Email').getAttribute('aria-describedby');
    assert.ok(describedBy?.includes(await emailError.getAttribute('id')));
    assert.equal(await page.getByLabel('Email').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.getByLabel('Email').inputValue(), 'not-an-email');
    assert.equal(await page.getByLabel('Password').inputValue(), 'short');
    await shot(page, 'field-error-register');

    // The same on the task form: an over-long title is refused beside it.
    await register(page);
    await requireRoute(page, 'GET', '/api/tasks');
    await page.getByRole('button', { name: 'New task' }).click();
    const long = 'x'.repeat(501);
    await inForm(page, 'Title').fill(long);
    await inForm(page, 'Description').fill('kept after the error');
    await page.getByRole('button', { name: 'Create task' }).click();
    const titleError = page
      .getByRole('dialog')
      .locator('.field', { has: page.getByLabel('Title', { exact: true }) })
      .locator('.field-error');
    await titleError.waitFor();
    assert.equal(await inForm(page, 'Title').inputValue(), long);
    assert.equal(await inForm(page, 'Description').inputValue(), 'kept after the error');
    await shot(page, 'field-error-task');
    await context.close();
  });

  test('creates and edits a task with a due date in the user zone', async (t) => {
    const { context, page, errors } = await newPage();
    await register(page);
    await requireRoute(page, 'GET', '/api/tasks');
    await page.getByRole('button', { name: 'New task' }).click();
    await inForm(page, 'Title').fill('Write the report');
    await inForm(page, 'Description').fill('Quarterly numbers');
    await inForm(page, 'Priority').selectOption('high');
    await inForm(page, 'Tags').fill('work, q3');
    await inForm(page, /^Due/).fill('2031-03-04T09:30');
    await inForm(page, '1 hour before').check();
    await page.getByRole('button', { name: 'Create task' }).click();
    const item = page.getByTestId('task').filter({ hasText: 'Write the report' });
    await item.waitFor();
    assert.match(await item.innerText(), /09:30/);
    assert.match(await item.innerText(), /#work/);
    // Stored in UTC: 09:30 in Paris in March is 08:30Z.
    const stored = await page.evaluate(async () => await (await fetch('/api/tasks')).json());
    const saved = (stored.items ?? stored.tasks).find((x) => x.title === 'Write the report');
    assert.equal(saved.due_date, '2031-03-04T08:30:00Z');

    await item.getByRole('button', { name: 'Edit Write the report' }).click();
    assert.equal(await inForm(page, /^Due/).inputValue(), '2031-03-04T09:30');
    assert.ok(await inForm(page, '1 hour before').isChecked(), 'the reminder is kept with the task');
    assert.deepEqual(saved.reminders, [{ offset_minutes: 60, channels: ['in_app'] }]);
    await inForm(page, 'Title').fill('Write the final report');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('task').filter({ hasText: 'Write the final report' }).waitFor();

    // An overdue task stands out.
    await page.getByRole('button', { name: 'New task' }).click();
    await inForm(page, 'Title').fill('Pay the bill');
    await inForm(page, /^Due/).fill('2020-01-01T10:00');
    await page.getByRole('button', { name: 'Create task' }).click();
    const overdue = page.getByTestId('task').filter({ hasText: 'Pay the bill' });
    await overdue.waitFor();
    assert.match((await overdue.getAttribute('class')) ?? '', /overdue/);
    assert.ok(await overdue.getByText('Overdue').isVisible());
    await shot(page, 'tasks');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a reminder a few seconds ahead arrives in the bell without a reload, and snoozes from the inbox', async (t) => {
    const { context, page, errors } = await newPage();
    await register(page);
    await requireRoute(page, 'GET', '/api/tasks');
    await requireRoute(page, 'GET', '/api/notifications/unread-count');
    await page.getByRole('button', { name: 'New task' }).click();
    await inForm(page, 'Title').fill('Call Alice');
    await inForm(page, /^Due/).fill(parisLocal(3600_000));
    await page.getByRole('button', { name: 'Add a custom time' }).click();
    await inForm(page, /^Remind at/).fill(parisLocal(10_000, true));
    await page.getByRole('button', { name: 'Create task' }).click();
    await page.getByTestId('task').filter({ hasText: 'Call Alice' }).waitFor();
    // Ten seconds leave room for a slow machine to fill the form before the reminder is due
    // (one already past when planned is skipped, never fired late).
    const count = page.getByTestId('unread-count');
    await count.waitFor({ timeout: 40_000 });
    assert.equal(await count.innerText(), '1');
    await page.getByRole('button', { name: /Notifications, 1 unread/ }).click();
    const notification = page.getByTestId('notification').first();
    await notification.waitFor();
    assert.match(await notification.innerText(), /Call Alice/);
    await shot(page, 'bell');
    // Snoozing puts the reminder back, 10 minutes on, and reads the notification.
    await notification.getByRole('button', { name: 'Snooze 10 min' }).click();
    await page.getByText('Snoozed for 10 min.').waitFor();
    await count.waitFor({ state: 'detached' });
    const reminders = await page.evaluate(async () => {
      const { items } = await (await fetch('/api/tasks')).json();
      return (await (await fetch(`/api/tasks/${items[0].id}/reminders`)).json()).items;
    });
    assert.equal(reminders.length, 1);
    assert.equal(reminders[0].status, 'pending');
    const minutesAhead = (new Date(reminders[0].scheduled_time).getTime() - Date.now()) / 60000;
    assert.ok(minutesAhead > 9 && minutesAhead <= 10, `snoozed to ${minutesAhead} minutes from now`);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a weekly series shows its instances with the indicator; one is edited alone, this-and-following deleted, the series renamed', async (t) => {
    const { context, page, errors } = await newPage();
    await register(page);
    await requireRoute(page, 'GET', '/api/tasks');
    await requireRoute(page, 'POST', '/api/tasks/recurring/preview');
    await page.getByRole('button', { name: 'New task' }).click();
    await inForm(page, 'Title').fill('Team sync');
    await inForm(page, /^Due/).fill(parisLocal(86_400_000).slice(0, 11) + '10:00');
    await inForm(page, 'Repeat this task').check();
    await inForm(page, 'Unit').selectOption('WEEKLY');
    await inForm(page, 'Mon').check();
    await inForm(page, 'Thu').check();
    await inForm(page, 'Ends').selectOption('after');
    await inForm(page, 'Times').fill('4');
    const occurrences = page.getByTestId('occurrences').locator('li');
    await occurrences.first().waitFor();
    assert.equal(await occurrences.count(), 4);
    await shot(page, 'series-builder');
    await page.getByRole('button', { name: 'Create series' }).click();
    const instances = page.getByTestId('task').filter({ hasText: 'Team sync' });
    await instances.first().waitFor({ timeout: 15_000 });
    assert.ok((await instances.count()) >= 2, 'the series has generated instances');
    assert.ok(await instances.first().getByTestId('recurring-indicator').isVisible());

    // In due-date order, so which instance each step touches is known.
    await page.getByLabel('Sort by').selectOption('due_date');
    await page.waitForFunction(() => {
      const due = [...document.querySelectorAll('[data-testid=task] time')].map((t) => t.getAttribute('datetime'));
      return due.length === 4 && due.every((at, i) => i === 0 || due[i - 1] <= at);
    });
    const dueDates = () =>
      page
        .getByTestId('task')
        .locator('time')
        .evaluateAll((nodes) => nodes.map((n) => n.getAttribute('datetime')));
    const allDue = await dueDates();

    // The first instance edited alone.
    await instances.first().getByRole('button', { name: 'Edit Team sync' }).click();
    await inForm(page, 'Title').fill('Team sync (moved)');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('radio', { name: 'This task only' }).check();
    await page.getByRole('button', { name: 'Edit', exact: true }).click();
    await page.waitForFunction(() => document.querySelector('[data-testid=task] .task-title')?.textContent === 'Team sync (moved)');
    assert.equal(await page.locator('.task-title', { hasText: /^Team sync$/ }).count(), 3, 'the others are unchanged');
    assert.deepEqual(await dueDates(), allDue);
    await shot(page, 'series');

    // Deleting the third and the following ones leaves the first two.
    await page.getByTestId('task').nth(2).getByRole('button', { name: 'Delete Team sync' }).click();
    await page.getByRole('radio', { name: 'This and following tasks' }).check();
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=task]').length === 2);
    assert.deepEqual(await dueDates(), allDue.slice(0, 2));

    // Renaming the whole series renames every instance but the one edited alone.
    await page
      .getByTestId('task')
      .filter({ has: page.locator('.task-title', { hasText: /^Team sync$/ }) })
      .getByRole('button', { name: 'Edit Team sync' })
      .click();
    await inForm(page, 'Title').fill('Weekly sync');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('radio', { name: 'All tasks in the series' }).check();
    await page.getByRole('button', { name: 'Edit', exact: true }).click();
    await page.getByTestId('task').filter({ hasText: 'Weekly sync' }).first().waitFor();
    assert.equal(await page.getByTestId('task').filter({ hasText: 'Team sync (moved)' }).count(), 1);
    assert.equal(
      await page
        .getByTestId('task')
        .filter({ has: page.locator('.task-title', { hasText: /^Team sync$/ }) })
        .count(),
      0,
    );
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('the main screen shows overdue, recurring and tagged tasks with the unread count', async (t) => {
    const { context, page, errors } = await newPage({ width: 1100, height: 720 });
    await register(page);
    for (const [method, path] of [
      ['GET', '/api/tasks'],
      ['POST', '/api/tasks/recurring/preview'],
      ['GET', '/api/notifications/unread-count'],
    ]) {
      await requireRoute(page, method, path);
    }
    const soon = new Date(Date.now() + 3000).toISOString().replace(/\.\d+Z$/, 'Z');
    const tomorrow = parisLocal(86_400_000).slice(0, 11) + '09:00:00';
    await page.evaluate(
      async ([soon, tomorrow]) => {
        const send = async (method, path, body) => {
          const response = await fetch(path, {
            method,
            headers: { 'Content-Type': 'application/json', 'X-Requested-With': 'XMLHttpRequest' },
            body: JSON.stringify(body),
          });
          if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
          return response.json();
        };
        await send('POST', '/api/tasks/recurring', {
          task_template: { title: 'Water the plants', priority: 'low', tags: ['home'] },
          rrule: 'FREQ=WEEKLY;BYDAY=MO,TH;COUNT=3',
          start: tomorrow,
          mode: 'fixed',
        });
        await send('POST', '/api/tasks', { title: 'Renew passport', priority: 'high', due_date: '2026-01-15T09:00:00Z', tags: ['admin'] });
        const call = await send('POST', '/api/tasks', {
          title: 'Call the dentist',
          description: 'Ask about the Thursday slot',
          priority: 'medium',
          due_date: new Date(Date.now() + 2 * 3600_000).toISOString().replace(/\.\d+Z$/, 'Z'),
        });
        await send('POST', `/api/tasks/${call.id}/reminders`, { at: soon });
        await send('POST', '/api/tasks', { title: 'Draft the quarterly report', priority: 'high', tags: ['work', 'q3'] });
      },
      [soon, tomorrow],
    );
    await page.reload();
    await page.getByTestId('unread-count').waitFor({ timeout: 30_000 });
    await page.getByTestId('task').filter({ hasText: 'Renew passport' }).waitFor();
    assert.ok((await page.getByTestId('recurring-indicator').count()) >= 2);
    assert.equal(await page.locator('.task.overdue').count(), 1);
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'main.png') });
    assert.deepEqual(errors, []);
    await context.close();
  });

  test("settings keep a field error beside its field, and activity lists the user's events newest first", async (t) => {
    const { context, page, errors } = await newPage();
    await register(page);
    for (const [method, path] of [
      ['GET', '/api/tasks'],
      ['GET', '/api/me/settings'],
      ['GET', '/api/audit/events'],
    ]) {
      await requireRoute(page, method, path);
    }
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'Settings' }).waitFor();
    await page.getByLabel('Time zone').selectOption('America/New_York');
    await page.getByLabel('Webhook URL').fill('not a url');
    await page.getByRole('button', { name: 'Save settings' }).click();
    const webhookError = page.locator('.field', { has: page.getByLabel('Webhook URL') }).locator('.field-error');
    await webhookError.waitFor();
    assert.equal(await page.getByLabel('Webhook URL').inputValue(), 'not a url');
    await shot(page, 'settings-error');
    await page.getByLabel('Webhook URL').fill('');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('Settings saved.').waitFor();
    await page.reload();
    await page.getByRole('heading', { name: 'Settings' }).waitFor();
    assert.equal(await page.getByLabel('Time zone').inputValue(), 'America/New_York');

    await page.getByRole('link', { name: 'Tasks' }).click();
    for (const title of ['First thing', 'Second thing']) {
      await page.getByRole('button', { name: 'New task' }).click();
      await inForm(page, 'Title').fill(title);
      await page.getByRole('button', { name: 'Create task' }).click();
      await page.getByTestId('task').filter({ hasText: title }).waitFor();
    }
    await page.getByRole('link', { name: 'Activity' }).click();
    const created = page.locator('.activity li', { hasText: 'tasks.task.created' });
    // The audit log is written by a consumer, a moment after the change.
    for (let i = 0; i < 50 && (await created.count()) < 2; i++) {
      await page.waitForTimeout(200);
      await page.getByRole('link', { name: 'Tasks' }).click();
      await page.getByRole('link', { name: 'Activity' }).click();
      await page.locator('.activity').waitFor();
    }
    assert.equal(await created.count(), 2);
    assert.match(await created.first().innerText(), /Second thing/);
    await shot(page, 'activity');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('more pages load on scroll, and filters and search narrow the list', async (t) => {
    const { context, page, errors } = await newPage();
    await register(page);
    await requireRoute(page, 'GET', '/api/tasks');
    await page.evaluate(async () => {
      for (let i = 1; i <= 30; i++) {
        const body = {
          title: `Errand ${String(i).padStart(2, '0')}`,
          priority: i % 3 === 0 ? 'high' : 'low',
          tags: i % 5 === 0 ? ['shop'] : [],
        };
        if (i === 7) body.due_date = '2025-06-01T10:00:00Z';
        const response = await fetch('/api/tasks', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-Requested-With': 'XMLHttpRequest' },
          body: JSON.stringify(body),
        });
        if (!response.ok) throw new Error(`POST /api/tasks: ${response.status}`);
      }
    });
    await page.reload();
    const tasks = page.getByTestId('task');
    await tasks.first().waitFor();
    assert.equal(await tasks.count(), 25, 'the first page');
    await page.getByTestId('task').last().scrollIntoViewIfNeeded();
    await page.mouse.wheel(0, 5000);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=task]').length === 30);
    await page.getByLabel('Search').fill('Errand 1');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=task]').length === 10);
    await page.getByLabel('Search').fill('');
    await page.getByLabel('Tag').fill('shop');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=task]').length === 6);
    await page.getByLabel('Tag').fill('');
    await page.getByLabel('Overdue only').check();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=task]').length === 1);
    assert.match(await tasks.first().innerText(), /Errand 07/);
    await page.getByLabel('Overdue only').uncheck();
    await page.getByLabel('Priority').selectOption('high');
    await page.getByLabel('Sort by').selectOption('title');
    await page.waitForFunction(
      () =>
        document.querySelectorAll('[data-testid=task]').length === 10 &&
        document.querySelector('[data-testid=task] .task-title')?.textContent === 'Errand 03',
    );
    await shot(page, 'filtered');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('the builder previews a monthly series on the last Friday', async (t) => {
    const { context, page, errors } = await newPage();
    await register(page);
    await requireRoute(page, 'POST', '/api/tasks/recurring/preview');
    await page.getByRole('button', { name: 'New task' }).click();
    await inForm(page, 'Title').fill('Pay the rent');
    await inForm(page, /^Due/).fill('2031-01-02T08:00');
    await inForm(page, 'Repeat this task').check();
    await inForm(page, 'Unit').selectOption('MONTHLY');
    await inForm(page, 'On').selectOption('weekday');
    await inForm(page, 'Which').selectOption('-1');
    await inForm(page, 'Weekday').selectOption('FR');
    await inForm(page, 'Ends').selectOption('after');
    await inForm(page, 'Times').fill('3');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=occurrences] li').length === 3);
    const instants = await page
      .getByTestId('occurrences')
      .locator('time')
      .evaluateAll((nodes) => nodes.map((n) => n.getAttribute('datetime')));
    // 08:00 in Paris (UTC+1 in winter) on the last Friday of January, February and March 2031.
    assert.deepEqual(
      instants.map((at) => new Date(at).toISOString()),
      ['2031-01-31T07:00:00.000Z', '2031-02-28T07:00:00.000Z', '2031-03-28T07:00:00.000Z'],
    );
    await inForm(page, 'Ends').selectOption('on');
    await inForm(page, 'Last date').fill('2031-02-28');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=occurrences] li').length === 2);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('works on a phone-sized screen', async () => {
    const { context, page, errors } = await newPage({ width: 390, height: 844 });
    await register(page);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `no horizontal scrolling (page is ${width}px wide)`);
    await shot(page, 'phone');
    assert.deepEqual(errors, []);
    await context.close();
  });
});
