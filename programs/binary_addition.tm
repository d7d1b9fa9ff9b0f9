; Binary addition a+b: repeatedly subtracts one from b and adds one to a, then erases '+b'.
; Expected: 101+11 (5 + 3) leaves 1000 (8); halts in 'done'.
name:  binary addition
start: right
blank: _
halt:  done
tape:  101+11

; go to the right end of the second number
right 0 0 R right
right 1 1 R right
right + + R right
right _ _ L dec
; subtract one from the second number
dec 0 1 L dec
dec 1 0 L left
dec + _ R clean       ; b was zero: erase '+' and what is left of b (all ones now)
; go back to the first number
left 0 0 L left
left 1 1 L left
left + + L inc
; add one to the first number
inc 0 1 R right
inc 1 0 L inc
inc _ 1 R right
; erase the second number and stop
clean 1 _ R clean
clean _ _ L done
