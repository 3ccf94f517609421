/*
 * A small unit-test harness. Each TEST() registers itself; the runner forks
 * one process per test (a crash or hang fails only that test; 10 s alarm)
 * and ends with "unit: N passed, N failed".
 *
 *     TEST(tree_rename) { CHECK(x == 1); CHECK_STR(path, "a/b"); }
 *
 * Run one test or a prefix: build/unit-tests tree_
 */
#ifndef PM_HARNESS_H
#define PM_HARNESS_H

#include <stdio.h>
#include <string.h>
#include <stdlib.h>

typedef void (*pm_test_fn)(void);
void pm_test_register(const char *name, pm_test_fn fn);
void pm_test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A fresh empty directory for this test (removed after it). */
const char *pm_test_tmpdir(void);

#define TEST(name)                                                        \
	static void test_##name(void);                                    \
	__attribute__((constructor)) static void register_##name(void)    \
	{                                                                 \
		pm_test_register(#name, test_##name);                     \
	}                                                                 \
	static void test_##name(void)

#define CHECK(cond)                                                       \
	do {                                                              \
		if (!(cond))                                              \
			pm_test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond); \
	} while (0)

#define CHECK_INT(a, b)                                                   \
	do {                                                              \
		long long pm_a_ = (long long)(a), pm_b_ = (long long)(b); \
		if (pm_a_ != pm_b_)                                       \
			pm_test_fail(__FILE__, __LINE__, "%s == %lld, expected %s == %lld", \
			             #a, pm_a_, #b, pm_b_);              \
	} while (0)

#define CHECK_STR(a, b)                                                   \
	do {                                                              \
		const char *pm_a_ = (a), *pm_b_ = (b);                   \
		if (!pm_a_ || !pm_b_ || strcmp(pm_a_, pm_b_) != 0)       \
			pm_test_fail(__FILE__, __LINE__, "%s == \"%s\", expected \"%s\"", \
			             #a, pm_a_ ? pm_a_ : "(null)", pm_b_ ? pm_b_ : "(null)"); \
	} while (0)

#define CHECK_CONTAINS(hay, needle)                                       \
	do {                                                              \
		const char *pm_h_ = (hay), *pm_n_ = (needle);            \
		if (!pm_h_ || !strstr(pm_h_, pm_n_))                      \
			pm_test_fail(__FILE__, __LINE__, "%s == \"%s\" lacks \"%s\"", \
			             #hay, pm_h_ ? pm_h_ : "(null)", pm_n_); \
	} while (0)

#endif
