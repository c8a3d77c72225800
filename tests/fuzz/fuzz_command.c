/**
 * @file fuzz_command.c  The in-dialog INFO body parsers (ctrl/command.c):
 * chorus-control JSON, application/dtmf-relay and application/dtmf,
 * reached through ctrl_info_parse() as the call layer does.
 *
 * Invariants checked (command.h promises): success has scode 0, a
 * rejection has 400/413/415; the reason is NUL-terminated printable ASCII
 * without '"' or '\' (it goes into a Warning header unescaped); targets
 * are NUL-terminated; gains are within the documented limits; a DTMF
 * digit is one of 0-9 * # A-D.
 *
 * Input: byte 0 picks the Content-Type (low 2 bits: json, dtmf-relay,
 * dtmf, or the next bytes up to a NUL as the Content-Type), the rest is
 * the body.
 */
#include <stdbool.h>
#include <strings.h>
#include <re.h>

#include "ctrl/command.h"
#include "fuzz_common.h"


static void check_result(int err, const struct ctrl_result *res)
{
	const char *r = res->reason;
	const char *nul = memchr(r, '\0', sizeof(res->reason));

	FUZZ_CHECK(nul != NULL);
	for (const char *c = r; c < nul; c++)
		FUZZ_CHECK(*c >= 0x20 && *c < 0x7f && *c != '"' &&
			   *c != '\\');

	if (!err)
		FUZZ_CHECK(res->scode == 0);
	else
		FUZZ_CHECK(res->scode == 400 || res->scode == 413 ||
			   res->scode == 415);
}


static void check_cmd(const struct ctrl_cmd *cmd)
{
	FUZZ_CHECK(memchr(cmd->target, '\0', sizeof(cmd->target)));
	FUZZ_CHECK(cmd->op > CTRL_OP_NONE && cmd->op <= CTRL_OP_ROLE);
	if (cmd->has_in)
		FUZZ_CHECK(cmd->in_db >= CTRL_GAIN_MIN_DB &&
			   cmd->in_db <= CTRL_GAIN_MAX_DB);
	if (cmd->has_out)
		FUZZ_CHECK(cmd->out_db >= CTRL_GAIN_MIN_DB &&
			   cmd->out_db <= CTRL_GAIN_MAX_DB);
	if (cmd->target_kind == CTRL_TARGET_URI)
		FUZZ_CHECK(!strncasecmp(cmd->target, "sip:", 4) ||
			   !strncasecmp(cmd->target, "sips:", 5));
	(void)ctrl_op_name(cmd->op);
	(void)ctrl_role_name(cmd->role);
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *types[3] = {
		"application/json", "application/dtmf-relay",
		"application/dtmf"};
	char ctype[64];
	struct ctrl_info info;
	struct ctrl_result res;
	struct ctrl_cmd cmd;
	const uint8_t *body;
	char *copy;
	size_t len;
	int err;

	if (size < 1)
		return 0;

	if ((data[0] & 3) < 3) {
		str_ncpy(ctype, types[data[0] & 3], sizeof(ctype));
		body = data + 1;
		len = size - 1;
	}
	else {
		const uint8_t *nul = memchr(data + 1, '\0', size - 1);
		size_t tl = nul ? (size_t)(nul - data - 1) : 0;

		if (!nul || tl >= sizeof(ctype))
			return 0;
		memcpy(ctype, data + 1, tl);
		ctype[tl] = '\0';
		body = nul + 1;
		len = size - (size_t)(body - data);
	}

	/* an exact-size copy, not NUL-terminated, as a SIP body is */
	copy = malloc(len ? len : 1);
	if (!copy)
		return 0;
	memcpy(copy, body, len);

	err = ctrl_info_parse(&info, &res, ctype, copy, len);
	check_result(err, &res);
	if (!err && info.kind == CTRL_INFO_CMD)
		check_cmd(&info.cmd);
	if (!err && info.kind == CTRL_INFO_DTMF)
		FUZZ_CHECK(info.dtmf.digit &&
			   strchr("0123456789*#ABCD", info.dtmf.digit));

	err = ctrl_cmd_parse(&cmd, &res, copy, len);
	check_result(err, &res);
	if (!err)
		check_cmd(&cmd);

	free(copy);

	return 0;
}
