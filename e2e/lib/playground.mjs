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
  // chats: a one-line box and a "Send Message" button; channels: "Start a new post" and a "Post" button
  composeBox: '[data-lexical-editor="true"]',
  sendButton: 'button[aria-label="Send Message"], button:text-is("Post")',
  messageHeader: '[aria-label="Message header"]',
  messageAuthor: '[aria-label="Message author"]',
  moreButton: 'button[aria-label="Show more information"]',
  avatar: '.fui-Avatar[role="img"]',
  card: '.ac-adaptiveCard',
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
  const used = new Set();
  return {
    context,
    /** A new tab on a playground (one tab per playground, i.e. per signed-in mock user). */
    async open(url, options = {}) {
      const blank = context.pages().find((p) => !used.has(p));
      const page = blank || (await context.newPage());
      used.add(page);
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
  async openChat(name, { quiet = 1500 } = {}) {
    await this.page.locator(SELECTORS.chatItem(name)).click();
    await this.page.locator(SELECTORS.composeBox).first().waitFor({ timeout: this.timeout });
    // Opening a tab or a conversation tells the bot it was installed, and the bot may greet: let that
    // settle (no new message for `quiet` ms, at most 3 × quiet) so a greeting is not taken for a reply.
    const start = Date.now();
    let count = -1;
    let changed = Date.now();
    while (Date.now() - changed < quiet && Date.now() - start < 3 * quiet) {
      const now = (await this.messages()).length;
      if (now !== count) [count, changed] = [now, Date.now()];
      await this.page.waitForTimeout(150);
    }
    this._mark = (await this.messages()).filter((m) => m.fromBot).length;
  }

  /**
   * Type a message and send it. In group chats and channels the bot only hears messages that @mention it:
   * `mention: true` mentions the bot first, `mention: '鈴木 一郎'` another member (picked in the @ menu).
   */
  async send(text, { mention = false, thread = false } = {}) {
    this._mark = (await this.messages()).filter((m) => m.fromBot).length;
    // in a channel the first box starts a new post; `thread: true` answers in the last post's thread
    const pick = (loc) => (thread ? loc.last() : loc.first());
    await pick(this.page.locator(SELECTORS.composeBox)).click();
    if (mention) await this._mention(mention === true ? this.botName : mention);
    await this.page.keyboard.insertText(text);
    await pick(this.page.locator(thread ? 'button[aria-label="Send Message"]' : SELECTORS.sendButton)).click();
  }

  async _mention(name) {
    await this.page.keyboard.type('@');
    const item = this.page.locator('#typeahead-menu [role="menuitem"]').filter({ hasText: name }).first();
    await item.click({ timeout: this.timeout });
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
        // Chats mark each message header with aria-label="Message header"; channel posts and their replies
        // have a header row holding the author's avatar and a "Show more information" button.
        const headers = new Set(document.querySelectorAll(sel.messageHeader));
        document.querySelectorAll(sel.moreButton).forEach((button) => {
          if (button.closest(sel.messageHeader)) return;
          let h = button.parentElement;
          while (h && !h.querySelector(sel.avatar)) h = h.parentElement;
          if (h) headers.add(h);
        });
        // a message is the nearest ancestor of its header that holds more than the header
        const items = [];
        for (const header of headers) {
          let root = header;
          while (root.parentElement && root.parentElement.children.length < 2) root = root.parentElement;
          root = root.parentElement || root;
          items.push({ header, root });
        }
        items.sort((a, b) => (a.root.compareDocumentPosition(b.root) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1));
        const roots = items.map((i) => i.root);
        // the parts of a message that are neither its header nor a nested message (a channel post holds its replies)
        const parts = (el, header) => {
          const out = [];
          for (const child of el.children) {
            if (child === header || child.contains(header)) continue;
            if (roots.includes(child)) continue;
            if (roots.some((r) => child.contains(r))) out.push(...parts(child, header));
            else out.push(child);
          }
          return out;
        };
        return items.map(({ header, root }, index) => {
          const authorEl = header.querySelector(sel.messageAuthor);
          const avatar = header.querySelector(sel.avatar);
          const author = authorEl ? authorEl.innerText.trim() : avatar ? avatar.getAttribute('aria-label') : null;
          const body = parts(root, header);
          const text = body.map((c) => c.innerText).join('\n').trim();
          const cards = body.flatMap((c) => Array.from(c.matches(sel.card) ? [c] : c.querySelectorAll(sel.card)));
          return {
            index,
            author,
            fromBot: author === botName,
            text,
            cards: cards.map((card) => ({
              title: (card.querySelector('.ac-textBlock, .ac-richTextBlock')?.innerText || '').trim(),
              text: card.innerText.trim(),
              buttons: Array.from(card.querySelectorAll('button'))
                .map((b) => (b.getAttribute('title') || b.innerText).trim())
                .filter(Boolean),
              inputs: Array.from(card.querySelectorAll('input, textarea, select')).map((i) => ({
                label: i.getAttribute('aria-label') || '',
                placeholder: i.getAttribute('placeholder') || '',
                value: i.value,
                type: i.getAttribute('type') || i.tagName.toLowerCase(),
              })),
            })),
          };
        });
      },
      {
        sel: {
          messageHeader: SELECTORS.messageHeader,
          messageAuthor: SELECTORS.messageAuthor,
          moreButton: SELECTORS.moreButton,
          avatar: SELECTORS.avatar,
          card: SELECTORS.card,
        },
        botName: this.botName,
      },
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

  /**
   * Pick `option` in the Input.ChoiceSet labelled `field`: radio buttons or checkboxes (style "expanded"),
   * or a Fluent combobox (style "compact"; its options open in a pop-up outside the card, as role
   * "option", or "menuitemcheckbox" when isMultiSelect).
   */
  async choose(field, option) {
    const page = this.locator.page();
    const groups = this.locator.getByRole('radiogroup', { name: field }).or(this.locator.getByRole('group', { name: field }));
    const scope = (await groups.count()) ? groups.first() : this.locator;
    const inline = scope.getByRole('radio', { name: option, exact: true }).or(scope.getByRole('checkbox', { name: option, exact: true }));
    if (await inline.count()) {
      await inline.first().check({ timeout: this.timeout });
      return;
    }
    await this.locator.getByRole('combobox', { name: field }).first().click({ timeout: this.timeout });
    const item = page
      .getByRole('option', { name: option, exact: true })
      .or(page.getByRole('menuitemcheckbox', { name: option, exact: true }))
      .first();
    const multi = (await item.getAttribute('role', { timeout: this.timeout })) === 'menuitemcheckbox';
    await item.click({ timeout: this.timeout });
    if (multi) await page.keyboard.press('Escape');
  }

  /** Set an Input.Toggle (found by its title) on or off. */
  async toggle(title, on = true) {
    await this.locator.getByRole('checkbox', { name: title }).first().setChecked(on, { timeout: this.timeout });
  }

  /** Click a card button (Action.Submit / Action.Execute / Action.ShowCard) by its title. */
  async click(title) {
    await this.locator.getByRole('button', { name: title, exact: true }).first().click({ timeout: this.timeout });
  }

  async text() {
    return (await this.locator.innerText({ timeout: this.timeout })).trim();
  }
}
