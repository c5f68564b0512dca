package redistest

import (
	"crypto/x509"
)

// x509UnknownAuthority is the error a TLS client gets from a server whose
// certificate it cannot verify.
type x509UnknownAuthority = x509.UnknownAuthorityError

// keySlot is Redis Cluster's slot of key: CRC16 (XMODEM) mod 16384 of the
// key, or of its hash tag when it has one.
func keySlot(key string) int {
	if i := indexByte(key, '{'); i >= 0 {
		if j := indexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	var crc uint16
	for k := 0; k < len(key); k++ {
		crc ^= uint16(key[k]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return int(crc) % 16384
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}
