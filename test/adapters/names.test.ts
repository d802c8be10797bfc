import { describe, expect, it } from 'vitest';
import { SYSTEMS } from '../../src/adapters/index.js';
import { checkInventory, SYSTEM_IDS } from '../../src/adapters/names.js';
import { loadConfig } from '../../src/config.js';

describe('the built-in inventory and the names the config checks against', () => {
  it('SYSTEM_IDS are the ids of SYSTEMS, in order', () => {
    expect(SYSTEMS.map((s) => s.id)).toEqual([...SYSTEM_IDS]);
  });

  it('refuses an inventory with a system missing, added or out of order, naming both lists', () => {
    const ids = (list: readonly string[]) => list.map((id) => ({ id }));
    expect(() => checkInventory(ids(SYSTEM_IDS))).not.toThrow();
    expect(() => checkInventory(ids(SYSTEM_IDS.slice(1)))).toThrow(/differ from SYSTEM_IDS in src\/adapters\/names\.ts/);
    expect(() => checkInventory(ids([...SYSTEM_IDS, 'weather']))).toThrow(/\(cloud_run, .*, weather\) differ/);
    expect(() => checkInventory(ids([...SYSTEM_IDS].reverse()))).toThrow(/differ from SYSTEM_IDS/);
  });

  it('TOOLSETS=all enables every system of the inventory, and an unknown toolset is named with the known ones', () => {
    const key = { MCP_API_KEY: 'k'.repeat(20) };
    expect(loadConfig(key).toolsets).toEqual(SYSTEMS.map((s) => s.id));
    expect(() => loadConfig({ ...key, TOOLSETS: 'docker,weather' })).toThrow(`invalid TOOLSETS: unknown toolset "weather" (known: all, ${SYSTEMS.map((s) => s.id).join(', ')})`);
  });
});
