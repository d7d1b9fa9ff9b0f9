; Parity of a unary number: erase it and halt in E (even) or O (odd). 111 -> halts in O.
name:    parity
start:   even
blank:   _
halt:    E O
symbols: _ 1
states:  even odd E O
tape:    111

even 1 _ R odd
odd  1 _ R even
even _ _ R E
odd  _ _ R O
