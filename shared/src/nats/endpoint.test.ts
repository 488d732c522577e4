import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineEndpoints, endpointSubject } from './endpoint.js';

describe('defineEndpoints', () => {
  const table = defineEndpoints('rooms', {
    markBlobsDeleted: { description: 'd', request: z.object({ ids: z.array(z.string()) }), response: z.object({}) },
    block: { description: 'b', request: z.object({ user_id: z.string() }), response: z.object({ at: z.string() }) },
  });

  it('names each endpoint after its key in snake_case, under the one service', () => {
    expect(table.markBlobsDeleted).toMatchObject({ service: 'rooms', name: 'mark_blobs_deleted', description: 'd' });
    expect(endpointSubject('ns', table.block)).toBe('ns.rpc.rooms.block');
  });

  it('keeps each schema as given', () => {
    expect(table.block.response.parse({ at: 'now' })).toEqual({ at: 'now' });
    expect(() => table.markBlobsDeleted.request.parse({ ids: [1] })).toThrow();
  });
});
