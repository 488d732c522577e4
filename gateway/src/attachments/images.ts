import { rename, rm } from 'node:fs/promises';
import { ChatError } from '@chat/shared';
import sharp from 'sharp';

/** The long side of a thumbnail at most (DESIGN 10.5). */
export const THUMBNAIL_MAX_SIDE = 320;

export interface PreparedImage {
  /** The stored image after orientation and metadata removal. */
  size: number;
  width: number;
  height: number;
  thumbnail: { path: string; contentType: 'image/jpeg' | 'image/webp'; size: number; width: number; height: number };
}

/** Types whose stored bytes are re-encoded; GIFs carry no EXIF and are kept as sent (re-encoding could grow them). */
const REENCODED = new Set(['image/jpeg', 'image/png', 'image/webp']);

/**
 * Prepares an uploaded image in place: the stored copy gets its EXIF orientation applied to the
 * pixels and loses every metadata block (EXIF with GPS, XMP, IPTC; sharp writes none unless told
 * to), and a thumbnail of at most THUMBNAIL_MAX_SIDE px on its long side is made beside it: JPEG
 * when the image is opaque (every phone decodes it), WebP when it has transparency. Undefined for
 * types without a thumbnail. An image the library cannot decode is `invalid`.
 */
export async function prepareImage(
  path: string,
  contentType: string,
  originalSize: number,
  maxPixels: number,
): Promise<PreparedImage | undefined> {
  if (!REENCODED.has(contentType) && contentType !== 'image/gif') return undefined;
  const options = { limitInputPixels: maxPixels, failOn: 'error' as const };
  try {
    const metadata = await sharp(path, options).metadata();
    const animated = (metadata.pages ?? 1) > 1;
    let size = originalSize;
    let width = metadata.width;
    let height = metadata.pageHeight ?? metadata.height;
    if (REENCODED.has(contentType)) {
      const cleaned = `${path}.clean`;
      // An animated WebP keeps its frames; a still image is turned upright first.
      const image = animated ? sharp(path, { ...options, animated: true }) : sharp(path, options).rotate();
      const encoded =
        contentType === 'image/jpeg'
          ? image.jpeg({ quality: 90 })
          : contentType === 'image/png'
            ? image.png()
            : image.webp({ quality: 90 });
      const info = await encoded.toFile(cleaned);
      await rename(cleaned, path);
      size = info.size;
      width = info.width;
      height = animated ? (info.pageHeight ?? info.height) : info.height;
    }
    const thumbPath = `${path}.thumb`;
    const alpha = metadata.hasAlpha === true;
    const thumb = sharp(path, options).rotate().resize(THUMBNAIL_MAX_SIDE, THUMBNAIL_MAX_SIDE, { fit: 'inside', withoutEnlargement: true });
    const info = await (alpha ? thumb.webp({ quality: 75 }) : thumb.jpeg({ quality: 75 })).toFile(thumbPath);
    return {
      size,
      width,
      height,
      thumbnail: {
        path: thumbPath,
        contentType: alpha ? 'image/webp' : 'image/jpeg',
        size: info.size,
        width: info.width,
        height: info.height,
      },
    };
  } catch (error) {
    await Promise.all([rm(`${path}.clean`, { force: true }), rm(`${path}.thumb`, { force: true })]);
    if (error instanceof ChatError) throw error;
    throw ChatError.invalid(`the image could not be decoded: ${error instanceof Error ? error.message.slice(0, 120) : 'unknown error'}`, [
      { path: 'file', message: 'not a valid image' },
    ]);
  }
}
