#include "test.h"
void test_device(void) {}
