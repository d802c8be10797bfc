import type { CallToolResult } from '@modelcontextprotocol/server';
import { HubError } from '../tools/errors.js';
import { capResult } from '../tools/limits.js';

type ContentItem = CallToolResult['content'][number];

/** Base64 characters an item carries (images, audio, embedded binary resources). */
function binaryChars(item: ContentItem): number {
  if (item.type === 'image' || item.type === 'audio') return item.data.length;
  if (item.type === 'resource' && 'blob' in item.resource) return item.resource.blob.length;
  return 0;
}

/**
 * The REST body of an upstream tool's answer: the MCP result as is (content, structuredContent, resource links), except
 * binary content beyond `maxMediaChars` (the GPT Actions body limit), which is left out and said so. An upstream
 * `isError` result becomes a 502 `upstream_error` carrying the upstream's text. The rest is bounded like any result.
 */
export function upstreamRestBody(result: CallToolResult, maxMediaChars: number, maxChars: number): { error: HubError } | { body: Record<string, unknown> } {
  const shaped = shapeForRest(result, maxMediaChars);
  if ('error' in shaped) return shaped;
  // Then the whole body within RESULT_MAX_CHARS, as for built-in tools (`_truncated` says so).
  const capped = capResult(shaped.body, maxChars);
  return { body: capped.truncated ? { ...capped.data, _truncated: capped.truncated } : capped.data };
}

function shapeForRest(result: CallToolResult, maxMediaChars: number): { error: HubError } | { body: Record<string, unknown> } {
  const content = Array.isArray(result.content) ? result.content : [];
  if (result.isError === true) {
    const text = content
      .filter((c): c is Extract<ContentItem, { type: 'text' }> => c.type === 'text')
      .map((c) => c.text)
      .join('\n');
    return { error: new HubError('upstream_error', `the upstream tool failed: ${text.slice(0, 1000) || '(no message)'}`, { upstream_content: content.filter((c) => binaryChars(c) === 0) }) };
  }
  const total = content.reduce((n, c) => n + binaryChars(c), 0);
  if (total <= maxMediaChars) return { body: { ...result } };
  const kept = content.map((c) =>
    binaryChars(c) === 0 ? c : { type: c.type, omitted: true, base64_chars: binaryChars(c), ...('mimeType' in c ? { mimeType: c.mimeType } : {}) },
  );
  return {
    body: {
      ...result,
      content: kept,
      media_omitted: { reason: `binary content of ${total} base64 characters exceeds the ${maxMediaChars}-character REST limit; call the tool over MCP (/mcp) to receive it` },
    },
  };
}
