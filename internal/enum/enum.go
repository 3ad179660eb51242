// Package enum names the values of small integer enumerations.
package enum

import "fmt"

// Name returns names[v], the name of v in a table indexed by value, or
// "typ(v)" for a value the table does not name, as a switch's default
// would say it.
func Name[T ~uint8](names []string, v T, typ string) string {
	if int(v) < len(names) && names[v] != "" {
		return names[v]
	}
	return fmt.Sprintf("%s(%d)", typ, uint8(v))
}
