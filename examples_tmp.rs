fn main(){
 for s in ["a,b\r\n1,2\r\n3,4", "a,b\n1,2\n3,4\n", "a,b\n\"x\ny\",2\n3,4\n"] {
  let mut r = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(s.as_bytes());
  for rec in r.byte_records() { let rec=rec.unwrap(); print!("{} ", rec.position().unwrap().line()); }
  println!();
 }
}
