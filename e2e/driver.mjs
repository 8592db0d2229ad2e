#!/usr/bin/env node
// Run a scripted conversation in the Agents Playground and print what the page showed, as JSON.
//
//   node e2e/driver.mjs --url http://127.0.0.1:56150/ --artifacts test-artifacts/e2e/help --steps steps.json
//
// steps.json (or --steps - for stdin) is a list; each step is one of:
//   {"chat": "Personal Chat"}                       select a conversation ("DX推進課 - General", group chat name)
//   {"send": "ヘルプ", "mention": false}              type and send a message (mention: @ the bot first)
//   {"expect": {"text": "できること", "card": true, "anywhere": false, "timeout": 20000}}
//                                                   wait for the bot's reply (a new message unless anywhere)
//   {"fill": {"field": "件名", "value": "…"}, "card": "…"}      type into a card input (label or placeholder)
//   {"choose": {"field": "対象", "option": "全課"}, "card": "…"} pick a ChoiceSet option
//   {"click": "送信する", "card": "…"}                click a card button; "card" picks the last card containing it
//   {"screenshot": "help-card", "card": "…"}          save <artifacts>/<name>.png (of one card if "card" is given)
//   {"wait": 500}                                    sleep (ms)
//   {"snapshot": "label"}                            record all messages now (for assertions)
// Output (stdout): {"ok": bool, "error": str|null, "results": [...per step], "messages": [...], "screenshots": [...]}
// Exit status 0 when every step passed, 1 when one failed (an error.png is saved then), 2 on bad usage.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { launch } from './lib/playground.mjs';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    steps: { type: 'string' },
    artifacts: { type: 'string', default: 'test-artifacts/e2e' },
    'bot-name': { type: 'string' },
    timeout: { type: 'string', default: '20000' },
  },
});
if (!args.url || !args.steps) {
  console.error('usage: driver.mjs --url URL --steps FILE|- [--artifacts DIR] [--bot-name NAME] [--timeout MS]');
  process.exit(2);
}
const steps = JSON.parse(fs.readFileSync(args.steps === '-' ? 0 : args.steps, 'utf8'));
const artifactsDir = path.resolve(args.artifacts);
const report = { ok: false, error: null, results: [], messages: [], screenshots: [], consoleErrors: [] };

const session = await launch({ artifactsDir });
let pg;
try {
  pg = await session.open(args.url, { botName: args['bot-name'], timeout: Number(args.timeout) });
  for (const [i, step] of steps.entries()) {
    try {
      report.results.push(await runStep(pg, step));
    } catch (e) {
      throw new Error(`step ${i + 1} ${JSON.stringify(step)}: ${e.message.split('\n')[0]}`);
    }
  }
  report.ok = true;
} catch (e) {
  report.error = e.message;
  if (pg) await pg.screenshot('error').catch(() => {});
} finally {
  if (pg) {
    report.messages = await pg.messages().catch(() => []);
    report.screenshots = pg.screenshots;
    report.consoleErrors = pg.consoleErrors;
  }
  await session.close();
}
process.stdout.write(JSON.stringify(report, null, 1) + '\n');
process.exit(report.ok ? 0 : 1);

async function runStep(pg, step) {
  if ('chat' in step) return pg.openChat(step.chat);
  if ('send' in step) return pg.send(step.send, { mention: !!step.mention });
  if ('expect' in step) return pg.expectBotMessage(step.expect);
  if ('fill' in step) return pg.card(step.card).fill(step.fill.field, step.fill.value);
  if ('choose' in step) return pg.card(step.card).choose(step.choose.field, step.choose.option);
  if ('click' in step) return pg.card(step.card).click(step.click);
  if ('screenshot' in step) return pg.screenshot(step.screenshot, { card: step.card });
  if ('wait' in step) return pg.page.waitForTimeout(step.wait);
  if ('snapshot' in step) return { label: step.snapshot, messages: await pg.messages() };
  throw new Error(`unknown step ${JSON.stringify(step)}`);
}
