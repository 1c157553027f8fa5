/* startup: does nothing; the harness times process start to exit. */
int main(void) { return 0; }
