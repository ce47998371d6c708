/* Symbol visibility for mlwip's public API (the build uses -fvisibility=hidden). */
#ifndef MLWIP_EXPORT_H
#define MLWIP_EXPORT_H

#if defined(__GNUC__)
#define MLW_EXPORT __attribute__((visibility("default")))
#else
#define MLW_EXPORT
#endif

#endif /* MLWIP_EXPORT_H */
