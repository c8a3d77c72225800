/**
 * @file testutil.h  Helpers shared by the cmocka unit tests (header only:
 * tests/unit/CMakeLists.txt builds one executable per test_*.c).
 *
 * Include after <cmocka.h>.
 */
#ifndef CHORUS_TESTUTIL_H
#define CHORUS_TESTUTIL_H

#include <math.h>
#include <stdio.h>
#include <unistd.h>
#include <re.h>


/* write @text to @dir/@name, replacing the file */
static inline void tu_write_file(const char *dir, const char *name,
				 const char *text)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_true(fputs(text, fp) >= 0);
	assert_int_equal(fclose(fp), 0);
}


/* remove a temporary config directory holding chorus.conf and rooms.conf */
static inline void tu_conf_dir_remove(const char *dir)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/chorus.conf", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/rooms.conf", dir);
	unlink(path);
	rmdir(dir);
}


/* cmocka group setup and teardown for tests that need libre */
static inline int tu_libre_init(void **state)
{
	(void)state;
	return libre_init();
}


static inline int tu_libre_close(void **state)
{
	(void)state;
	libre_close();
	return 0;
}


/* RMS of v[0..n) */
static inline double tu_rms(const int16_t *v, size_t n)
{
	double e = 0;
	size_t i;

	for (i = 0; i < n; i++)
		e += (double)v[i] * v[i];

	return sqrt(e / n);
}


/* Goertzel power at f relative to the total energy: 1.0 = pure tone */
static inline double tu_purity(const int16_t *v, size_t n, double f,
			       uint32_t srate)
{
	const double w = 2 * M_PI * f / srate, c = 2 * cos(w);
	double s1 = 0, s2 = 0, e = 0, p;
	size_t i;

	for (i = 0; i < n; i++) {
		const double s0 = v[i] + c * s1 - s2;

		s2 = s1;
		s1 = s0;
		e += (double)v[i] * v[i];
	}

	p = s1 * s1 + s2 * s2 - c * s1 * s2;

	return e > 0 ? 2 * p / (n * e) : 0;
}

#endif
