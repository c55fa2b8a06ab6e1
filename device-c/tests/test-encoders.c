/* Placeholder replaced below. */
#include "test.h"
void test_encoders(void) {}
