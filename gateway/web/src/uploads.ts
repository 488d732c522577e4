/** One upload in flight: its progress (0..1) is reported as the browser sends the bytes. */
export interface Upload {
  readonly done: Promise<string>;
  abort(): void;
}

/**
 * Uploads one file as multipart/form-data (part `file`, DESIGN 5) with XMLHttpRequest, the one
 * browser API that reports upload progress (fetch does not). Resolves with the attachment id;
 * a problem+json refusal rejects with its detail.
 */
export function uploadFile(httpUrl: string, token: string, roomId: string, file: File, onProgress: (fraction: number) => void): Upload {
  const xhr = new XMLHttpRequest();
  const done = new Promise<string>((resolve, reject) => {
    xhr.open('POST', `${httpUrl}/v1/rooms/${roomId}/attachments`);
    xhr.setRequestHeader('authorization', `Bearer ${token}`);
    xhr.responseType = 'text';
    xhr.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener('load', () => {
      let body: { id?: string; detail?: string } = {};
      try {
        body = JSON.parse(xhr.responseText || '{}') as typeof body;
      } catch {
        // Not JSON (a proxy's error page): the status text says enough.
      }
      if (xhr.status >= 200 && xhr.status < 300 && body.id) {
        onProgress(1);
        resolve(body.id);
      } else reject(new Error(body.detail ?? `HTTP ${xhr.status} ${xhr.statusText}`));
    });
    xhr.addEventListener('error', () => reject(new Error('the connection failed')));
    xhr.addEventListener('abort', () => reject(new Error('cancelled')));
    const form = new FormData();
    form.append('file', file, file.name);
    xhr.send(form);
  });
  return { done, abort: () => xhr.abort() };
}
