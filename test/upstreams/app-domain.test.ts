import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hubAppDomain, hubAppResourceMeta } from '../../src/upstreams/app-domain.js';

const sha = (url: string) => createHash('sha256').update(url).digest('hex').slice(0, 32);
const HUB = 'https://hub.example.com/mcp';
const UPSTREAM = 'http://10.0.0.5:3001/mcp';
const at = { hubUrl: HUB, upstreamUrl: UPSTREAM };

describe('hubAppDomain: an upstream app\'s domain re-derived for the hub', () => {
  it('Claude\'s form always names the hub URL\'s hash (Claude checks it against the URL it connected to), stdio upstreams too', () => {
    expect(hubAppDomain(`${sha('https://weather.example.com/mcp')}.claudemcpcontent.com`, { hubUrl: HUB })).toBe(`${sha(HUB)}.claudemcpcontent.com`);
    expect(hubAppDomain(`${sha(UPSTREAM)}.claudemcpcontent.com`, at)).toBe(`${sha(HUB)}.claudemcpcontent.com`);
  });

  it('other forms derived from the upstream\'s URL: its hash, its origin, its host, its host as a label', () => {
    expect(hubAppDomain(`mcp-endpoint-${sha(UPSTREAM)}.web-sandbox.oaiusercontent.com`, at)).toBe(`mcp-endpoint-${sha(HUB)}.web-sandbox.oaiusercontent.com`);
    expect(hubAppDomain('http://10.0.0.5:3001', at)).toBe('https://hub.example.com');
    expect(hubAppDomain('http://10.0.0.5:3001/', at)).toBe('https://hub.example.com');
    expect(hubAppDomain('10.0.0.5:3001', at)).toBe('hub.example.com');
    expect(hubAppDomain('10-0-0-5.oaiusercontent.com', at)).toBe('hub-example-com.oaiusercontent.com');
  });

  it('a domain that names something else passes unchanged', () => {
    expect(hubAppDomain('https://www.example.com', at)).toBe('https://www.example.com');
    expect(hubAppDomain(`mcp-endpoint-${sha('https://other.example/mcp')}.web-sandbox.oaiusercontent.com`, at)).toBe(`mcp-endpoint-${sha('https://other.example/mcp')}.web-sandbox.oaiusercontent.com`);
    expect(hubAppDomain('http://10.0.0.5:3001', { hubUrl: HUB })).toBe('http://10.0.0.5:3001');
  });
});

describe('hubAppResourceMeta', () => {
  it('rewrites ui.domain and openai/widgetDomain, leaves the CSP lists and the other keys as they are', () => {
    const csp = { connectDomains: ['http://10.0.0.5:3001'], resourceDomains: ['https://cdn.example.com'] };
    const meta = { ui: { domain: `${sha(UPSTREAM)}.claudemcpcontent.com`, csp, prefersBorder: false }, 'openai/widgetDomain': 'http://10.0.0.5:3001', 'openai/widgetCSP': { connect_domains: ['http://10.0.0.5:3001'] }, other: 1 };
    expect(hubAppResourceMeta(meta, at)).toEqual({
      ui: { domain: `${sha(HUB)}.claudemcpcontent.com`, csp, prefersBorder: false },
      'openai/widgetDomain': 'https://hub.example.com',
      'openai/widgetCSP': { connect_domains: ['http://10.0.0.5:3001'] },
      other: 1,
    });
    expect(meta.ui.domain).toBe(`${sha(UPSTREAM)}.claudemcpcontent.com`);
  });

  it('returns the same object when nothing names the upstream', () => {
    const meta = { ui: { csp: { connectDomains: ['https://api.example.com'] } }, 'openai/widgetDomain': 'https://www.example.com' };
    expect(hubAppResourceMeta(meta, at)).toBe(meta);
  });
});
