import { describe, expect, it } from 'vitest';
import { system as chatgpt } from '../../../src/adapters/chatgpt/index.js';
import { system as connector } from '../../../src/adapters/connector/index.js';
import { system as intelligence } from '../../../src/adapters/intelligence/index.js';
import { toJsonSchema } from '../../../src/tools/registry.js';

const tools = [intelligence, connector, chatgpt].flatMap((s) => s.tools);

describe('published schemas of the intelligence, connector and chatgpt tools', () => {
  it.each(tools.map((t) => [t.name, t] as const))('%s: JSON Schema with a description on every argument', (_name, tool) => {
    const input = toJsonSchema(tool.input, 'input') as { type: string; properties: Record<string, { description?: string }> };
    expect(input.type).toBe('object');
    for (const [field, schema] of Object.entries(input.properties)) {
      expect(schema.description, `${tool.name}.${field}`).toBeTruthy();
      expect(schema.description!.length).toBeLessThanOrEqual(700);
    }
    if (tool.output) expect(toJsonSchema(tool.output, 'output')).toMatchObject({ type: 'object' });
    expect(tool.description.length).toBeLessThanOrEqual(300);
  });
});
