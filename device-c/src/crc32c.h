/* CRC-32C (Castagnoli), SPEC §2.1: reflected poly 0x82F63B78, init and xorout 0xFFFFFFFF. */
#ifndef EPARA_CRC32C_H
#define EPARA_CRC32C_H
#include <stddef.h>
#include <stdint.h>

/* Start a CRC: pass the result to epara_crc32c_update, then epara_crc32c_final. */
#define EPARA_CRC32C_INIT 0xFFFFFFFFu

uint32_t epara_crc32c_update(uint32_t state, const uint8_t *data, size_t n);
static inline uint32_t epara_crc32c_final(uint32_t state) { return state ^ 0xFFFFFFFFu; }
/* One-shot CRC-32C of data[0..n). */
uint32_t epara_crc32c(const uint8_t *data, size_t n);

#endif
