/* nosym: a shared object that is not a winch module. */
int nosym_value(void);

int nosym_value(void)
{
	return 42;
}
