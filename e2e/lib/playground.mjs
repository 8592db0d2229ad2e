// Drive the Microsoft 365 Agents Playground web UI with headless Chromium (playwright-core).
//
//   const session = await launch({ artifactsDir: 'test-artifacts/e2e/help' });
//   const pg = await session.open('http://127.0.0.1:56150/');
//   await pg.openChat('Personal Chat');
//   await pg.send('ヘルプ');
//   const msg = await pg.expectBotMessage({ card: true, text: 'できること' });
//   await pg.screenshot('help-card');
//   await session.close();
//
// Selectors were read from the playground's UI (0.2.x); see e2e/README.md.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const DEFAULT_CHROMIUM = process.env.DXBOT_E2E_CHROMIUM || '/usr/bin/chromium';
export const DEFAULT_BOT_NAME = 'DX推進ボット';

// Without the background-networking flags Chromium tries to reach Google services and, on a closed
// network, the page's own connections get refused while it waits for them.
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export const SELECTORS = {
  chatItem: (name) => `[role="treeitem"][aria-label="${name}"]`,
  composeBox: '[data-lexical-editor="true"][role="textbox"]',
  sendButton: 'button[aria-label="Send Message"]',
  messageHeader: '[aria-label="Message header"]',
  messageAuthor: '[aria-label="Message author"]',
  card: '.ac-adaptiveCard',
  cardText: '.ac-textBlock, .ac-richTextBlock, .ac-factset',
};

/** Start Chromium with a fresh profile. Only loopback URLs are let through; everything else is aborted. */
export async function launch({ artifactsDir, executablePath = DEFAULT_CHROMIUM, viewport } = {}) {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dxbot-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    args: [...CHROMIUM_ARGS, '--headless'],
    viewport: viewport || { width: 1400, height: 1000 },
    locale: 'ja-JP',
    timezoneId: 'Asia/Tokyo',
  });
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    const local = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
    return local || url.protocol === 'data:' ? route.continue() : route.abort('blockedbyclient');
  });
  if (artifactsDir) fs.mkdirSync(artifactsDir, { recursive: true });
  return {
    context,
    async open(url, options = {}) {
      const page = context.pages()[0] || (await context.newPage());
      const pg = new PlaygroundPage(page, { artifactsDir, ...options });
      await pg.goto(url);
      return pg;
    },
    async close() {
      await context.close().catch(() => {});
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

export class PlaygroundPage {
  constructor(page, { artifactsDir, botName = DEFAULT_BOT_NAME, timeout = 20000 } = {}) {
    this.page = page;
    this.artifactsDir = artifactsDir;
    this.botName = botName;
    this.timeout = timeout;
    this.screenshots = [];
    this.consoleErrors = [];
    this._mark = 0; // number of bot messages seen before the last send
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().includes('ERR_BLOCKED_BY_CLIENT')) this.consoleErrors.push(m.text());
    });
  }

  async goto(url) {
    await this.page.goto(url, { waitUntil: 'domcontentloaded' });
    await this.page.locator(SELECTORS.chatItem('Personal Chat')).waitFor({ timeout: this.timeout });
  }

  /** Select a conversation in the left pane: 'Personal Chat', the group chat's name, or 'チーム名 - チャネル名'. */
  async openChat(name) {
    await this.page.locator(SELECTORS.chatItem(name)).click();
    await this.page.locator(SELECTORS.composeBox).waitFor({ timeout: this.timeout });
    this._mark = (await this.messages()).filter((m) => m.fromBot).length;
  }

  /** Type a message and send it. In group chats and channels the bot only hears messages that @mention it. */
  async send(text, { mention = false } = {}) {
    this._mark = (await this.messages()).filter((m) => m.fromBot).length;
    const box = this.page.locator(SELECTORS.composeBox);
    await box.click();
    if (mention) await this._mentionBot();
    await this.page.keyboard.insertText(text);
    await this.page.locator(SELECTORS.sendButton).click();
  }

  async _mentionBot() {
    await this.page.keyboard.type('@');
    const option = this.page.getByRole('option', { name: this.botName }).first();
    await option.waitFor({ timeout: this.timeout });
    await option.click();
    await this.page.keyboard.insertText(' ');
  }

  /**
   * All messages of the open conversation, oldest first:
   * { index, author, fromBot, text, cards: [{ title, text, buttons: [title], inputs: [{label, placeholder, value, type}] }] }
   * (a card's title is its first TextBlock)
   */
  async messages() {
    return this.page.evaluate(
      ({ sel, botName }) => {
        const out = [];
        document.querySelectorAll(sel.messageHeader).forEach((header, index) => {
          const root = header.parentElement;
          const authorEl = header.querySelector(sel.messageAuthor);
          const author = authorEl ? authorEl.innerText.trim() : null;
          const body = Array.from(root.children).filter((c) => c !== header);
          const text = body.map((c) => c.innerText).join('\n').trim();
          const cards = Array.from(root.querySelectorAll(sel.card)).map((card) => ({
            title: (card.querySelector('.ac-textBlock, .ac-richTextBlock')?.innerText || '').trim(),
            text: card.innerText.trim(),
            buttons: Array.from(card.querySelectorAll('button')).map((b) => (b.getAttribute('title') || b.innerText).trim()).filter(Boolean),
            inputs: Array.from(card.querySelectorAll('input, textarea, select')).map((i) => ({
              label: i.getAttribute('aria-label') || '',
              placeholder: i.getAttribute('placeholder') || '',
              value: i.value,
              type: i.getAttribute('type') || i.tagName.toLowerCase(),
            })),
          }));
          out.push({ index, author, fromBot: author === botName, text, cards });
        });
        return out;
      },
      { sel: { messageHeader: SELECTORS.messageHeader, messageAuthor: SELECTORS.messageAuthor, card: SELECTORS.card }, botName: this.botName },
    );
  }

  /**
   * Wait for a bot message that arrived after the last send() and matches: `text` (substring of the
   * message or its card), `card` (true: must hold an Adaptive Card). `anywhere: true` also accepts older
   * messages (a card updated in place). Returns the message.
   */
  async expectBotMessage({ text, card = false, anywhere = false, timeout = this.timeout } = {}) {
    const deadline = Date.now() + timeout;
    let last = [];
    while (Date.now() < deadline) {
      last = (await this.messages()).filter((m) => m.fromBot);
      const candidates = anywhere ? last : last.slice(this._mark);
      const hit = candidates.find(
        (m) => (!card || m.cards.length > 0) && (!text || m.text.includes(text) || m.cards.some((c) => c.text.includes(text))),
      );
      if (hit) {
        // let the Adaptive Card renderer finish (images, layout) before anyone screenshots it
        await this.page.waitForTimeout(300);
        return hit;
      }
      await this.page.waitForTimeout(200);
    }
    const seen = last.map((m) => m.text.slice(0, 200)).join(' | ') || '(no bot message)';
    throw new Error(`no bot message with ${JSON.stringify({ text, card })} within ${timeout} ms; bot said: ${seen}`);
  }

  /** The last rendered Adaptive Card (of any message) whose text contains `text` (or the last card at all). */
  card(text) {
    let cards = this.page.locator(SELECTORS.card);
    if (text) cards = cards.filter({ hasText: text });
    return new CardHandle(cards.last(), this.timeout);
  }

  /**
   * Save <artifactsDir>/<name>.png: the window, or only one card when `card` is given ('' = the last card).
   * The window grows for the shot so that a tall card is seen whole, not cut by the scrolling chat pane.
   */
  async screenshot(name, { card } = {}) {
    if (!this.artifactsDir) throw new Error('no artifactsDir given');
    const file = path.join(this.artifactsDir, `${name}.png`);
    const target = card !== undefined ? this.card(card || undefined).locator : this.page.locator(SELECTORS.card).last();
    const size = this.page.viewportSize();
    try {
      if (await target.count()) {
        const box = await target.boundingBox();
        if (box && box.height > size.height - 400) {
          await this.page.setViewportSize({ width: size.width, height: Math.min(8000, Math.ceil(box.height) + 450) });
        }
        await target.scrollIntoViewIfNeeded();
        await this.page.waitForTimeout(200);
      }
      if (card !== undefined) await target.screenshot({ path: file });
      else await this.page.screenshot({ path: file });
    } finally {
      await this.page.setViewportSize(size);
    }
    this.screenshots.push(file);
    return file;
  }
}

export class CardHandle {
  constructor(locator, timeout) {
    this.locator = locator;
    this.timeout = timeout;
  }

  _input(field) {
    // Adaptive Card inputs are labelled by their `label` (aria-labelledby) or their placeholder (aria-label).
    return this.locator.getByLabel(field, { exact: false }).or(this.locator.getByPlaceholder(field)).first();
  }

  /** Type into an Input.Text / Input.Number / Input.Date found by its label or placeholder. */
  async fill(field, value) {
    await this._input(field).fill(String(value), { timeout: this.timeout });
  }

  /** Pick `option` in an Input.ChoiceSet found by its label: radio buttons, checkboxes or a drop-down. */
  async choose(field, option) {
    const byRole = this.locator.getByRole('radio', { name: option }).or(this.locator.getByRole('checkbox', { name: option }));
    if (await byRole.count()) {
      await byRole.first().check({ timeout: this.timeout });
      return;
    }
    const select = this.locator.locator('select').filter({ has: this.locator.page().getByRole('option', { name: option }) });
    if (await select.count()) {
      await select.first().selectOption({ label: option });
      return;
    }
    await this._input(field).click({ timeout: this.timeout });
    await this.locator.page().getByRole('option', { name: option }).first().click({ timeout: this.timeout });
  }

  /** Click a card button (Action.Submit / Action.Execute / Action.ShowCard) by its title. */
  async click(title) {
    await this.locator.getByRole('button', { name: title, exact: true }).first().click({ timeout: this.timeout });
  }

  async text() {
    return (await this.locator.innerText({ timeout: this.timeout })).trim();
  }
}
