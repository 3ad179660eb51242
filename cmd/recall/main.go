// Command recall is Terraform for cancelling scheduled Clickatell SMS: a
// manifest in git lists the messages that must not go out; plan shows what
// would change; apply cancels them and records the outcome in state.
package main

import (
	"context"
	"os"
)

func main() {
	handleSignals()
	os.Exit(Main(context.Background(), os.Args[1:], newEnv()))
}
