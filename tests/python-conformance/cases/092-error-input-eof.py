# A model that forgets the code runs without a keyboard.
numbers = [3, 8, 1]
print("Current list:", numbers)
value = int(input("Enter a number to add: "))
numbers.append(value)
print("Sorted:", sorted(numbers))
