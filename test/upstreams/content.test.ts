import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProfileConfig } from '../../src/config.js';
import { testConfig } from '../helpers/config.js';
import { upstreamInView } from '../../src/tools/catalog.js';
import { UpstreamContent } from '../../src/upstreams/content.js';
import { Upstreams } from '../../src/upstreams/index.js';
import { stdioEverything } from './helpers.js';

describe('upstream resources, templates and prompts (official everything server over stdio)', () => {
  let upstreams: Upstreams;
  let content: UpstreamContent;
  beforeAll(async () => {
    upstreams = new Upstreams(testConfig({ UPSTREAMS: JSON.stringify([stdioEverything('ev')]) }), pino({ level: 'silent' }));
    await upstreams.start();
    content = new UpstreamContent(upstreams.systems);
  });
  afterAll(async () => {
    await upstreams?.close();
  });

  it('lists resources under <upstream>+<uri> and reads one back from its upstream', async () => {
    const resources = await content.listResources();
    expect(resources.length).toBeGreaterThan(0);
    expect(resources.every((r) => r.uri.startsWith('ev+demo://') && r.name.startsWith('ev_'))).toBe(true);
    const doc = resources.find((r) => r.uri.startsWith('ev+demo://resource/static/document/'))!;
    const read = await content.readResource(doc.uri);
    expect(read.contents[0]!.uri).toBe(doc.uri);
    expect(JSON.stringify(read.contents[0]).length).toBeGreaterThan(50);
  });

  it('lists templates with their variables intact; a URI made from one reads from the upstream', async () => {
    const templates = await content.listResourceTemplates();
    const text = templates.find((t) => t.uriTemplate === 'ev+demo://resource/dynamic/text/{resourceId}');
    expect(text).toBeDefined();
    const read = await content.readResource('ev+demo://resource/dynamic/text/7');
    expect(read.contents[0]).toMatchObject({ uri: 'ev+demo://resource/dynamic/text/7' });
  });

  it('lists prompts as <upstream>_<prompt> and gets one with its arguments', async () => {
    const prompts = await content.listPrompts();
    expect(prompts.map((p) => p.name)).toEqual(expect.arrayContaining(['ev_simple-prompt', 'ev_args-prompt']));
    const got = await content.getPrompt('ev_args-prompt', { city: 'Lyon' });
    expect(got.messages[0]!.content).toEqual({ type: 'text', text: "What's weather in Lyon?" });
  });

  it('an upstream the caller cannot see is neither listed nor read; a foreign URI is not_found', async () => {
    const hidden = { visible: () => false };
    expect(await content.listResources(hidden)).toEqual([]);
    expect(await content.listPrompts(hidden)).toEqual([]);
    await expect(content.readResource('ev+demo://resource/dynamic/text/1', hidden)).rejects.toMatchObject({ code: 'not_found' });
    await expect(content.getPrompt('ev_simple-prompt', {}, hidden)).rejects.toMatchObject({ code: 'not_found' });
    await expect(content.readResource('file:///etc/passwd')).rejects.toMatchObject({ code: 'not_found' });
    await expect(content.readResource('zz+demo://x')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('a profile that does not select the upstream hides its content (catalog.ts upstreamInView)', async () => {
    const view = (profile: ProfileConfig) => ({ visible: (u: string) => upstreamInView(u, { profile }) });
    expect(await content.listPrompts(view({ name: 'other', toolsets: ['connector'] }))).toEqual([]);
    expect((await content.listPrompts(view({ name: 'ev', upstreams: ['ev'] }))).length).toBeGreaterThan(0);
    expect((await content.listPrompts(view({ name: 'pick', tools: ['ev_get-sum'] }))).length).toBeGreaterThan(0);
  });

  it('an upstream error is an upstream_error naming the request', async () => {
    await expect(content.getPrompt('ev_no-such-prompt')).rejects.toMatchObject({ code: 'upstream_error', message: expect.stringContaining('prompts/get') });
  });
});
