# A plugin with a syntax error on line 2.
def broken(:
    pass
