/*
 * fuzz_bin.c
 *	  libFuzzer harness for clk_bin_parse() of clk_codec.c, the parser of
 *	  the binary wire format (big-endian int32 bit count, then the bytes).
 *
 * Properties checked on every input:
 * - on success the payload is 1 to CLK_MAX_BYTES bytes and lies inside the
 *   input (CLK_BIN_HEADER + nbytes <= len), nbytes * 8 passes
 *   clk_check_bits(), and the header's bit count is exactly nbytes * 8;
 * - on failure the status is a known error, not CLK_CODEC_OK, and equals
 *   err.status, and clk_codec_strerror() gives a non-empty NUL-terminated
 *   message that fits its buffer and truncates cleanly into a short one;
 * - the status (and, for TRUNCATED, the count of missing bytes) agrees with
 *   a straightforward reference reading of the format written here.
 *
 * A violated property prints what failed and abort()s, so libFuzzer keeps
 * the input as a crash artifact; ASan and UBSan catch memory and undefined
 * behaviour errors in the parser.
 */
#include "fuzz_common.h"

/*
 * Reference reading of the wire format: the status clk_bin_parse() must
 * return, and in *missing the bytes short of the payload when TRUNCATED.
 */
static ClkCodecStatus
expected_status(const uint8_t *data, size_t size, int64_t *missing)
{
	int64_t		bits;
	int64_t		have;

	if (size < CLK_BIN_HEADER)
	{
		*missing = (int64_t) (CLK_BIN_HEADER - size);
		return CLK_CODEC_TRUNCATED;
	}
	bits = (int64_t) (((uint32_t) data[0] << 24) | ((uint32_t) data[1] << 16) |
						((uint32_t) data[2] << 8) | (uint32_t) data[3]);
	if (bits >= INT64_C(0x80000000))
		bits -= INT64_C(0x100000000);	/* two's complement int32 */
	if (bits < CLK_MIN_BITS || bits > CLK_MAX_BITS)
		return CLK_CODEC_SIZE_RANGE;
	if (bits % 8 != 0)
		return CLK_CODEC_SIZE_NOT_BYTES;
	have = (int64_t) (size - CLK_BIN_HEADER);
	if (have < bits / 8)
	{
		*missing = bits / 8 - have;
		return CLK_CODEC_TRUNCATED;
	}
	return CLK_CODEC_OK;
}

/* libFuzzer entry point: parse the input and check the properties above. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t		nbytes = (size_t) -1;
	int64_t		missing = -1;
	ClkCodecError err;
	ClkCodecStatus st;
	ClkCodecStatus want;

	memset(&err, 0, sizeof(err));
	st = clk_bin_parse(data, size, &nbytes, &err);
	want = expected_status(data, size, &missing);
	CHECK(st == want);

	if (st == CLK_CODEC_OK)
	{
		uint32_t	hdr;
		volatile uint8_t sink = 0;

		CHECK(nbytes >= 1 && nbytes <= CLK_MAX_BYTES);
		CHECK(CLK_BIN_HEADER + nbytes <= size);
		CHECK(clk_check_bits((int64_t) nbytes * 8, NULL) == CLK_CODEC_OK);
		hdr = ((uint32_t) data[0] << 24) | ((uint32_t) data[1] << 16) |
			((uint32_t) data[2] << 8) | (uint32_t) data[3];
		CHECK((uint64_t) hdr == (uint64_t) nbytes * 8);
		/* Touch the whole payload so ASan would flag a bad nbytes too. */
		for (size_t i = 0; i < nbytes; i++)
			sink ^= data[CLK_BIN_HEADER + i];
		(void) sink;
	}
	else
	{
		check_error(st, &err);
		if (st == CLK_CODEC_TRUNCATED)
			CHECK(err.value == missing && err.value > 0);
	}
	return 0;
}
