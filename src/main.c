/* placeholder: replaced by the daemon */
int main(void) { return 0; }
