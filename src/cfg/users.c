/**
 * @file users.c  users.conf: digest credentials (sip/auth.h).
 *
 * Format (one directive per line, '#' starts a comment):
 *
 *   user <name> <secret> rooms=<number>[,<number>...]|* [role=moderator]
 *
 *   <name>    1..63 of A-Z a-z 0-9 . _ - + @
 *   <secret>  the password (no blanks, no '#' after a blank; hashed at
 *             load, only HA1 kept), or ha1:<hex>[:<hex>] with
 *             md5(name:realm:password) (32 hex) and/or
 *             sha256(name:realm:password) (64 hex), so the file need not
 *             hold the password. An HA1 is bound to auth_realm.
 *   rooms     the rooms the user may act on; * = every room
 *   role      moderator (REFER dial-out/BYE from outside) or participant
 *             (default: may read a PIN room's roster)
 *
 * The file is named by auth_users in chorus.conf (relative to the config
 * directory). A table replaces the previous one only when the whole file
 * is valid. Errors never quote a secret.
 */
#include <stdint.h>
#include <ctype.h>
#include <string.h>
#include <sys/stat.h>
#include <re.h>
#include <openssl/crypto.h>

#include "ctrl/log.h"
#include "cfg/cfg.h"
#include "cfg/cfg_int.h"
#include "sip/auth.h"

enum { PASSWORD_MAX = 128 };

struct users_tab {
	const char *realm;
	struct cfg_user *users;
	unsigned *lines;
	unsigned nusers, cap;
};


static bool name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= sizeof(((struct cfg_user *)0)->name))
		return false;

	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._-+@", s[i]))
			return false;

	return true;
}


static bool room_valid(const char *s, size_t n)
{
	if (n == 1 && s[0] == '*')
		return true;
	if (n == 0 || n >= sizeof(((struct cfg_room *)0)->number))
		return false;

	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._+-", s[i]))
			return false;

	return true;
}


static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;

	return true;
}


static void lower_copy(char *dst, const char *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = (char)tolower((unsigned char)src[i]);
	dst[n] = '\0';
}


/* ha1:<hex>[:<hex>]: 32 hex = MD5, 64 hex = SHA-256, each at most once */
static bool parse_ha1(struct cfg_parser *p, const char *what,
		      const char *s, struct cfg_user *u)
{
	while (*s) {
		size_t n = strcspn(s, ":");

		if (!all_hex(s, n) || (n != 32 && n != 64)) {
			cfg_perr(p, what, "ha1: wants 32 hex digits (MD5) "
				 "and/or 64 (SHA-256), separated by ':'");
			return false;
		}
		if ((n == 32 && u->ha1_md5[0]) ||
		    (n == 64 && u->ha1_sha256[0])) {
			cfg_perr(p, what, "ha1: the same algorithm twice");
			return false;
		}
		lower_copy(n == 32 ? u->ha1_md5 : u->ha1_sha256, s, n);
		s += n;
		if (*s == ':')
			s++;
	}

	if (!u->ha1_md5[0] && !u->ha1_sha256[0]) {
		cfg_perr(p, what, "ha1: no hash given");
		return false;
	}

	return true;
}


static bool parse_secret(struct cfg_parser *p, const char *what,
			 const char *secret, const char *realm,
			 struct cfg_user *u)
{
	if (!strncmp(secret, "ha1:", 4))
		return parse_ha1(p, what, secret + 4, u);

	if (strlen(secret) > PASSWORD_MAX) {
		cfg_perr(p, what, "password longer than %u characters",
			 PASSWORD_MAX);
		return false;
	}

	if (auth_ha1(AUTH_MD5, u->name, realm, secret, u->ha1_md5,
		     sizeof(u->ha1_md5)) ||
	    auth_ha1(AUTH_SHA256, u->name, realm, secret, u->ha1_sha256,
		     sizeof(u->ha1_sha256))) {
		cfg_perr(p, what, "cannot hash the password");
		return false;
	}

	return true;
}


static bool parse_rooms(struct cfg_parser *p, const char *what,
			const char *val, struct cfg_user *u)
{
	const char *s = val;

	if (!*val) {
		cfg_perr(p, what, "empty (room numbers, comma-separated, "
			 "or *)");
		return false;
	}
	if (strlen(val) >= sizeof(u->rooms)) {
		cfg_perr(p, what, "longer than %zu characters",
			 sizeof(u->rooms) - 1);
		return false;
	}

	while (*s) {
		size_t n = strcspn(s, ",");

		if (!room_valid(s, n)) {
			cfg_perr(p, what, "'%b' is not a room number or *",
				 s, n);
			return false;
		}
		s += n;
		if (*s == ',')
			s++;
	}

	str_ncpy(u->rooms, val, sizeof(u->rooms));

	return true;
}


static void parse_user(struct cfg_parser *p, char *val, struct users_tab *t)
{
	struct cfg_user u;
	char *save = NULL, *name, *secret, *a;
	char what[96];
	bool has_rooms = false;

	memset(&u, 0, sizeof(u));

	name = strtok_r(val, " \t", &save);
	secret = name ? strtok_r(NULL, " \t", &save) : NULL;

	if (!name || !secret) {
		cfg_perr(p, "user", "wants: user <name> <password or "
			 "ha1:<hex>> rooms=<numbers|*> [role=moderator]");
		return;
	}
	if (!name_valid(name)) {
		cfg_perr(p, "user", "'%s' is not a user name (1..%zu of "
			 "A-Z a-z 0-9 . _ - + @)", name,
			 sizeof(u.name) - 1);
		return;
	}
	str_ncpy(u.name, name, sizeof(u.name));

	for (unsigned i = 0; i < t->nusers; i++) {
		if (!strcmp(t->users[i].name, name)) {
			cfg_perr(p, "user", "user %s defined twice (first on "
				 "line %u)", name, t->lines[i]);
			return;
		}
	}

	re_snprintf(what, sizeof(what), "user %s", name);
	if (!parse_secret(p, what, secret, t->realm, &u))
		goto out;

	while ((a = strtok_r(NULL, " \t", &save))) {
		char *eq = strchr(a, '=');

		if (!eq) {
			cfg_perr(p, "user", "user %s: '%s': expected "
				 "key=value", name, a);
			goto out;
		}
		*eq++ = '\0';
		re_snprintf(what, sizeof(what), "user %s %s", name, a);

		if (!strcmp(a, "rooms")) {
			if (has_rooms) {
				cfg_perr(p, what, "given twice");
				goto out;
			}
			if (!parse_rooms(p, what, eq, &u))
				goto out;
			has_rooms = true;
		}
		else if (!strcmp(a, "role")) {
			if (!strcmp(eq, "moderator"))
				u.moderator = true;
			else if (!strcmp(eq, "participant"))
				u.moderator = false;
			else {
				cfg_perr(p, what, "'%s' is not moderator or "
					 "participant", eq);
				goto out;
			}
		}
		else {
			cfg_perr(p, what, "unknown user attribute (known: "
				 "rooms role)");
			goto out;
		}
	}

	if (!has_rooms) {
		cfg_perr(p, "user", "user %s: rooms= missing (the rooms it "
			 "may act on, or * for all)", name);
		goto out;
	}

	if (t->nusers >= CFG_USERS_MAX) {
		cfg_perr(p, "user", "more than %u users", CFG_USERS_MAX);
		goto out;
	}

	if (t->nusers == t->cap) {
		unsigned cap = t->cap ? t->cap * 2 : 8;
		struct cfg_user *nu;
		unsigned *l;

		nu = mem_reallocarray(t->users, cap, sizeof(*nu), NULL);
		if (!nu)
			goto nomem;
		t->users = nu;

		l = mem_reallocarray(t->lines, cap, sizeof(*l), NULL);
		if (!l)
			goto nomem;
		t->lines = l;

		t->cap = cap;
	}

	t->users[t->nusers] = u;
	t->lines[t->nusers] = p->line;
	t->nusers++;
	goto out;

 nomem:
	cfg_perr(p, "user", "out of memory");
 out:
	OPENSSL_cleanse(&u, sizeof(u));
	/* the password was in the line buffer: wipe it too */
	OPENSSL_cleanse(secret, strlen(secret));
}


static void line_handler(struct cfg_parser *p, const char *key, char *val,
			 void *arg)
{
	struct users_tab *t = arg;

	if (!strcmp(key, "user"))
		parse_user(p, val, t);
	else
		cfg_perr(p, key, "unknown key (known: user)");
}


int cfg_users_load(struct cfg *cfg, bool log_changes)
{
	struct users_tab t;
	char path[512];
	int err;

	if (!cfg)
		return EINVAL;

	memset(&t, 0, sizeof(t));
	t.realm = cfg->auth_realm;

	if (!cfg->auth_users[0]) {
		if (log_changes && cfg->nusers)
			info("cfg: auth_users off: %u users removed\n",
			     cfg->nusers);
		cfg->users = mem_deref(cfg->users);
		cfg->nusers = 0;
		return 0;
	}

	if (cfg->auth_users[0] == '/')
		str_ncpy(path, cfg->auth_users, sizeof(path));
	else
		re_snprintf(path, sizeof(path), "%s/%s", cfg->dir,
			    cfg->auth_users);

	err = cfg_parse_file(path, line_handler, &t);
	if (err)
		goto out;

	/* passwords or password-equivalent HA1s: say so if others can read */
	{
		struct stat sb;

		if (t.nusers && !stat(path, &sb) && (sb.st_mode & S_IROTH))
			warning("cfg: %s is readable by every user: it holds "
				"passwords or HA1s (chmod o-r)\n", path);
	}

	if (log_changes)
		info("cfg: %s: %u users (was %u)\n", path, t.nusers,
		     cfg->nusers);

	if (cfg->users)
		OPENSSL_cleanse(cfg->users, cfg->nusers * sizeof(*cfg->users));
	mem_deref(cfg->users);
	cfg->users = t.users;
	cfg->nusers = t.nusers;
	t.users = NULL;

 out:
	if (t.users)
		OPENSSL_cleanse(t.users, t.nusers * sizeof(*t.users));
	mem_deref(t.users);
	mem_deref(t.lines);

	return err;
}


int cfg_reload_users(struct cfg *cfg)
{
	int err;

	if (!cfg)
		return EINVAL;

	err = cfg_users_load(cfg, true);
	if (err)
		warning("cfg: %s not reloaded (%m): keeping the previous "
			"users\n", cfg->auth_users, err);

	return err;
}


int cfg_users_print(struct re_printf *pf, const struct cfg *cfg)
{
	int err = 0;

	if (!cfg->auth_users[0])
		return 0;

	err |= re_hprintf(pf, "# %s as loaded (secrets hidden)\n",
			  cfg->auth_users);

	for (unsigned i = 0; i < cfg->nusers; i++) {
		const struct cfg_user *u = &cfg->users[i];

		err |= re_hprintf(pf, "user %s *** rooms=%s role=%s%s%s\n",
				  u->name, u->rooms,
				  u->moderator ? "moderator" : "participant",
				  u->ha1_md5[0] ? " (MD5)" : "",
				  u->ha1_sha256[0] ? " (SHA-256)" : "");
	}

	return err;
}
