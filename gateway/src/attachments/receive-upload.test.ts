import { describe, expect, it } from 'vitest';
import { contentDisposition, safeName } from './receive-upload.js';

describe('upload names', () => {
  it('keeps a display name without paths or control characters', () => {
    expect(safeName('C:\\Users\\me\\report.pdf')).toBe('report.pdf');
    expect(safeName('../../etc/passwd')).toBe('passwd');
    expect(safeName('bad\u0000name\u0007.txt')).toBe('badname.txt');
    expect(safeName('   ')).toBe('file');
    expect(safeName(undefined)).toBe('file');
    expect(safeName('x'.repeat(300))).toHaveLength(255);
  });

  it('writes RFC 6266 dispositions with an ASCII fallback', () => {
    expect(contentDisposition('inline', 'photo.png')).toBe(`inline; filename="photo.png"; filename*=UTF-8''photo.png`);
    expect(contentDisposition('attachment', 'Prüfung "final".pdf')).toBe(
      `attachment; filename="Pr_fung _final_.pdf"; filename*=UTF-8''Pr%C3%BCfung%20%22final%22.pdf`,
    );
  });
});
